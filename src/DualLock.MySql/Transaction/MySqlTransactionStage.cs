using System.Data;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Opens a connection and a transaction for the work (<see cref="MySqlTransactionFeature"/>), commits
/// when the work returns and rolls back when it throws or is cancelled. Optionally enforces the outer
/// stage's fencing token from the moment the transaction begins.
/// </summary>
/// <remarks>
/// Opening (including a wait for a free pooled connection), BEGIN and the fence are bounded by what is
/// left of the wait, but never less than <see cref="WaitDeadline.MinimumRoundTrip"/>. Before committing,
/// the transaction is rolled back and <see cref="LockLeaseLostException"/> thrown when an outer stage's
/// lease is already known lost or an outer named lock can no longer be confirmed.
/// </remarks>
internal sealed class MySqlTransactionStage : PreparingLockStage
{
    private readonly string _connectionString;
    private readonly IsolationLevel _isolationLevel;
    private readonly string? _fenceTable;
    private readonly string _fenceTableName;
    private readonly bool _createFenceTable;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly MySqlTelemetry _telemetry;
    private readonly UnansweredSteps _unanswered = new();
    private volatile bool _fenceTableReady;

    public MySqlTransactionStage(MySqlTransactionOptions options, TimeProvider timeProvider, ILogger logger, Meter? meter = null)
        : base(options.Name)
    {
        _telemetry = MySqlTelemetry.For(meter);
        _connectionString = options.ConnectionString!;
        _isolationLevel = options.IsolationLevel;
        if (options.EnforceFencing)
        {
            _fenceTable = SqlIdentifier.Quote(options.FenceTable);
        }

        _fenceTableName = options.FenceTable;
        _createFenceTable = options.CreateFenceTable;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Opens the transaction; with EnforceFencing it also enforces the outer stage's token.</summary>
    protected internal override LockStageTraits Traits => _fenceTable is null ? LockStageTraits.OpensTransaction : LockStageTraits.OpensTransaction | LockStageTraits.EnforcesFencingToken;

    /// <summary>One transaction for the whole key set; with EnforceFencing each key's token is fenced, in the set's canonical order.</summary>
    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return AcquireAsync(context, waitTimeout, cancellationToken);
    }

    private async ValueTask<LockStageHandle?> AcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();

        // The keys whose outer token this transaction fences: the fence rows are taken in the keys' canonical
        // order, so two transactions over overlapping sets cannot each hold a fence row the other waits for.
        var fenced = _fenceTable is null ? [] : FencedKeys(context);
        var bound = waitTimeout > WaitDeadline.MinimumRoundTrip ? waitTimeout : WaitDeadline.MinimumRoundTrip;
        using var deadline = WaitDeadline.After(bound, _timeProvider, cancellationToken);
        ThrowIfBeginsUnanswered(context, started);
        var connection = new MySqlConnection(_connectionString);
        MySqlTransaction? transaction = null;
        var fencing = false;
        var abandoned = false;
        try
        {
            if (!await _unanswered.OpenAsync(connection, deadline).ConfigureAwait(false))
            {
                abandoned = true; // the connection stays with its unanswered open
                return Unanswered(context, started, cancellationToken);
            }

            if (fenced.Length > 0 && _createFenceTable && !_fenceTableReady)
            {
                // DDL commits implicitly, so it runs before the transaction starts, once per stage, and only when the table is missing.
                var exists = await MySqlCommands.Create(connection, FenceSql.TableExists)
                    .With("table", _fenceTableName)
                    .ScalarInt64Async(deadline.Token).ConfigureAwait(false);
                if (exists is null or 0)
                {
                    await MySqlCommands.Create(connection, FenceSql.CreateTable(_fenceTable!)).NonQueryAsync(deadline.Token).ConfigureAwait(false);
                }

                _fenceTableReady = true;
                Log.FenceTableEnsured(_logger, Name, _fenceTable!);
            }

            transaction = await _unanswered.BeginAsync(connection, _isolationLevel, deadline).ConfigureAwait(false);
            if (transaction is null)
            {
                abandoned = true; // the connection stays with its unanswered BEGIN
                return Unanswered(context, started, cancellationToken);
            }

            foreach (var (key, token) in fenced)
            {
                fencing = true;
                var left = bound - _timeProvider.GetElapsedTime(started);
                var stored = await MySqlCommands.Create(connection, FenceSql.RecordAndRead(_fenceTable!, WaitDeadline.ServerSeconds(left)), transaction)
                    .With("key", key.ToString())
                    .With("token", token)
                    .ScalarInt64Async(deadline.Token).ConfigureAwait(false) ?? 0;
                if (stored > token)
                {
                    throw FenceRefused(context, key, token, stored, started);
                }
            }

            return Complete(context, connection, transaction, started);
        }
        catch (Exception ex)
        {
            if (!abandoned)
            {
                await DisposeAsync(connection, transaction).ConfigureAwait(false);
            }

            if (ex is LockException)
            {
                throw;
            }

            if (deadline.Expired)
            {
                // The wait ran out: for a pooled connection or BEGIN the lock was simply not acquired; at the fence a
                // holder of the key (with an older token, still in its transaction) was in the way.
                if (fencing)
                {
                    Log.LockFailed(_logger, Name, context.Keys.First.Resource, (int)MySqlErrorCode.QueryInterrupted);
                    throw new LockTimeoutException(
                        context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex is OperationCanceledException { InnerException: MySqlException interrupted } ? interrupted : ex);
                }

                Log.OpenTimedOut(_logger, Name, context.Keys.First.Resource);
                return null;
            }

            if (ex is MySqlException mysql && (MySqlErrors.IsLockWait(mysql) || MySqlErrors.IsDeadlock(mysql)))
            {
                Log.LockFailed(_logger, Name, context.Keys.First.Resource, (int)mysql.ErrorCode);
                throw new LockTimeoutException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
            }

            if (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
            }

            throw;
        }
    }

    /// <summary>Without fencing the transaction's first statement needs nothing from the outer stages, so it may open beside their acquire.</summary>
    internal override bool CanPrepare => _fenceTable is null;

    /// <summary>Opens the connection and begins the transaction, as the acquire does, before the outer lock is held: no lock is taken.</summary>
    internal override async ValueTask<object?> PrepareAsync(TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        if (_unanswered.Saturated)
        {
            return null; // the plain acquire reports it
        }

        using var deadline = WaitDeadline.After(waitTimeout > WaitDeadline.MinimumRoundTrip ? waitTimeout : WaitDeadline.MinimumRoundTrip, _timeProvider, cancellationToken);
        var connection = new MySqlConnection(_connectionString);
        MySqlTransaction? transaction = null;
        try
        {
            // Unanswered within the whole wait: the acquire is over (a plain acquire now would open another connection
            // into the same hung server, past the wait); the connection stays with its open or BEGIN.
            if (!await _unanswered.OpenAsync(connection, deadline).ConfigureAwait(false))
            {
                return new NotAnswered(started);
            }

            transaction = await _unanswered.BeginAsync(connection, _isolationLevel, deadline).ConfigureAwait(false);
            return transaction is null ? new NotAnswered(started) : new Prepared(connection, transaction, started);
        }
        catch (Exception)
        {
            // The plain acquire runs next and reports the failure (unavailable, timed out) as it always does.
            await DisposeAsync(connection, transaction).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The rest of the acquire: the feature for the inner stages and the work, and what the outer stages provide, read now that they hold.</summary>
    internal override ValueTask<LockStageHandle?> CompleteAsync(LockContext context, object prepared)
    {
        if (prepared is NotAnswered notAnswered)
        {
            return new(Unanswered(context, notAnswered.Started, CancellationToken.None));
        }

        var (connection, transaction, started) = (Prepared)prepared;
        return new(Complete(context, connection, transaction, started));
    }

    /// <summary>The server did not answer the open or BEGIN within the wait: not acquired (or cancelled, when the caller cancelled).</summary>
    private LockStageHandle? Unanswered(LockContext context, long started, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Log.StepUnanswered(_logger, Name, context.Keys.First.Resource, _timeProvider.GetElapsedTime(started).TotalMilliseconds, _unanswered.Count);
        return null;
    }

    /// <summary>Past <see cref="UnansweredSteps.Limit"/> unanswered opens and BEGINs the server is taken as unavailable: no connection is opened into it.</summary>
    private void ThrowIfBeginsUnanswered(LockContext context, long started)
    {
        if (_unanswered.Saturated)
        {
            throw new LockUnavailableException(
                context.Keys.First.Resource,
                Name,
                _timeProvider.GetElapsedTime(started),
                new TimeoutException($"{_unanswered.Count} connections of this stage still wait for the server to answer an open or BEGIN (at most {UnansweredSteps.Limit}); no other is opened until the server answers."));
        }
    }

    /// <summary>
    /// The end of every acquire, plain or prepared: the feature for the inner stages and the work, and the handle with
    /// what the outer stages provide, read here, once they hold. Captured now: the pipeline disposes the source behind
    /// the lease-lost token before releasing, and a token still reports a cancellation after that.
    /// </summary>
    private Handle Complete(LockContext context, MySqlConnection connection, MySqlTransaction transaction, long started)
    {
        context.SetFeature(new MySqlTransactionFeature(connection, transaction));
        return new Handle(this, context, connection, transaction, context.GetFeature<NamedLockGuard>(), started, context.LeaseLost);
    }

    internal override async ValueTask DiscardAsync(object prepared)
    {
        if (prepared is not Prepared (var connection, var transaction, _))
        {
            return; // unanswered: the connection is the BEGIN's to close
        }

        try
        {
            await DisposeAsync(connection, transaction).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a broken connection is discarded by the pool; nothing was written in this transaction
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static (LockKey Key, long Token)[] FencedKeys(LockContext context)
    {
        var keys = context.Keys;
        var fenced = new List<(LockKey, long)>(keys.Count);
        foreach (var key in keys)
        {
            if (context.GetFencingToken(key) is { } token)
            {
                fenced.Add((key, token));
            }
        }

        return [.. fenced];
    }

    private LockLeaseLostException FenceRefused(LockContext context, LockKey key, long token, long stored, long started)
    {
        _telemetry.FenceRejected.Add(1, new(DualLock.Telemetry.DualLockTelemetry.PipelineTag, context.PipelineName), new(DualLock.Telemetry.DualLockTelemetry.StageTag, Name));
        Log.FenceRejected(_logger, Name, key.Resource, token, stored);
        return new LockLeaseLostException(
            key.Resource,
            Name,
            _timeProvider.GetElapsedTime(started),
            $"a holder with the newer fencing token {stored} has already been through (this holder's token is {token}); the transaction was rolled back before the work ran.")
        {
            RefusedFencingToken = token,
            NewerFencingToken = stored,
        };
    }

    private static async ValueTask DisposeAsync(MySqlConnection connection, MySqlTransaction? transaction)
    {
        // Disposing an open transaction rolls it back; a broken connection is discarded by the pool.
        if (transaction is not null)
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Handle(
        MySqlTransactionStage stage,
        LockContext context,
        MySqlConnection connection,
        MySqlTransaction transaction,
        NamedLockGuard? namedLock,
        long started,
        CancellationToken outerLeaseLost) : LockStageHandle
    {
        public override async ValueTask ReleaseAsync(bool workSucceeded)
        {
            try
            {
                if (!workSucceeded)
                {
                    await transaction.RollbackAsync().ConfigureAwait(false);
                    return;
                }

                // The fence (when enforced) was taken at BEGIN and its row stays locked until now, so no newer token
                // can have been recorded since: comparing again here would cost a round trip and could not fail.
                if (outerLeaseLost.IsCancellationRequested)
                {
                    await RefuseAsync(context.LeaseLostStage ?? stage.Name, "the lock of an outer stage was lost before the commit").ConfigureAwait(false);
                }

                for (var guard = namedLock; guard is not null; guard = guard.Outer)
                {
                    // A guard already given back (a key set whose later key was unavailable, under ContinueIfUnavailable)
                    // is not a lock this execution holds: the fallback went on without that stage.
                    if (!guard.GivenBack && !await guard.ConfirmHeldAsync().ConfigureAwait(false))
                    {
                        await RefuseAsync(guard.StageName, "the named lock's session lost the lock before the commit").ConfigureAwait(false);
                    }
                }

                await MySqlErrors.CommitAsync(transaction, context.Keys.First.Resource, stage.Name, stage._timeProvider, started).ConfigureAwait(false);
            }
            finally
            {
                // Back to the pool; a transaction still open here (a failed rollback) is rolled back by the pool's reset or the server.
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async ValueTask RefuseAsync(string lostStage, string reason)
        {
            await transaction.RollbackAsync().ConfigureAwait(false);
            Log.CommitRefusedLeaseLost(stage._logger, stage.Name, context.Keys.First.Resource, lostStage);
            throw new LockLeaseLostException(
                context.Keys.First.Resource,
                lostStage,
                stage._timeProvider.GetElapsedTime(started),
                reason + "; the transaction was rolled back instead of committed.");
        }
    }

    private sealed record Prepared(MySqlConnection Connection, MySqlTransaction Transaction, long Started);

    /// <summary>A prepare whose open or BEGIN the server did not answer within the wait.</summary>
    private sealed record NotAnswered(long Started);
}
