using System.Data;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>
/// Opens a connection and a transaction for the work (<see cref="PostgresTransactionFeature"/>), commits when the
/// work returns and rolls back when it throws or is cancelled. Optionally enforces the outer stage's fencing token
/// from the transaction's first statement on.
/// </summary>
/// <remarks>
/// Opening (including a wait for a free pooled connection) and the fence are bounded by what is left of the wait, but
/// never less than <see cref="WaitDeadline.MinimumRoundTrip"/>. Npgsql sends BEGIN with the first statement, so an
/// unfenced transaction costs no round trip until the work's own. Before committing, the transaction is rolled back
/// and <see cref="LockLeaseLostException"/> thrown when an outer stage's lease is already known lost.
/// </remarks>
internal sealed class PostgresTransactionStage : LockStage
{
    /// <summary>in_failed_sql_transaction: a statement of this transaction failed, so every later one is refused.</summary>
    private const string InFailedTransaction = "25P02";

    private readonly string _connectionString;
    private readonly IsolationLevel _isolationLevel;
    private readonly string? _fenceTable;
    private readonly bool _createFenceTable;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly PostgresTelemetry _telemetry;
    private volatile bool _fenceTableReady;

    public PostgresTransactionStage(PostgresTransactionOptions options, TimeProvider timeProvider, ILogger logger, Meter? meter = null)
        : base(options.Name)
    {
        _telemetry = PostgresTelemetry.For(meter);
        _connectionString = options.ConnectionString!;
        _isolationLevel = options.IsolationLevel;
        if (options.EnforceFencing)
        {
            _fenceTable = PostgresIdentifier.Quote(options.FenceTable);
        }

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

        // The fence rows are taken in the keys' canonical order, so two transactions over overlapping sets cannot each
        // hold a fence row the other waits for.
        var fenced = _fenceTable is null ? [] : FencedKeys(context);
        var bound = waitTimeout > WaitDeadline.MinimumRoundTrip ? waitTimeout : WaitDeadline.MinimumRoundTrip;
        using var deadline = WaitDeadline.After(bound, _timeProvider, cancellationToken);
        var connection = new NpgsqlConnection(_connectionString);
        NpgsqlTransaction? transaction = null;
        var fencing = false;
        try
        {
            await connection.OpenAsync(deadline.Token).ConfigureAwait(false);
            if (fenced.Length > 0 && _createFenceTable && !_fenceTableReady)
            {
                await EnsureFenceTableAsync(connection, deadline.Token).ConfigureAwait(false);
            }

            transaction = await connection.BeginTransactionAsync(_isolationLevel, deadline.Token).ConfigureAwait(false);
            foreach (var (key, token) in fenced)
            {
                fencing = true;
                var left = bound - _timeProvider.GetElapsedTime(started);
                var stored = await PostgresCommands.Create(connection, PostgresFenceSql.RecordAndRead(_fenceTable!, left), transaction)
                    .With("key", key.ToString())
                    .With("token", token)
                    .ScalarInt64Async(deadline.Token).ConfigureAwait(false) ?? 0;
                if (stored > token)
                {
                    throw FenceRefused(context, key, token, stored, started);
                }
            }

            context.SetFeature(new PostgresTransactionFeature(connection, transaction));

            // Captured now: the pipeline disposes the source behind it before releasing, and a token still reports a cancellation after that.
            return new Handle(this, context, connection, transaction, started, context.LeaseLost);
        }
        catch (Exception ex)
        {
            await DisposeAsync(connection, transaction).ConfigureAwait(false);
            if (ex is LockException)
            {
                throw;
            }

            if (fencing && (PostgresErrors.IsLockWait(ex) || PostgresErrors.IsConflict(ex) || deadline.Expired))
            {
                // A holder of the key (with an older token, still in its transaction) kept the fence row for the whole wait.
                Log.LockFailed(_logger, Name, context.Keys.First.Resource, (ex as PostgresException)?.SqlState ?? "deadline");
                throw new LockTimeoutException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
            }

            if (deadline.Expired)
            {
                // The wait ran out opening a pooled connection: the lock was simply not acquired.
                Log.OpenTimedOut(_logger, Name, context.Keys.First.Resource);
                return null;
            }

            if (ex is not OperationCanceledException && PostgresErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
            }

            throw;
        }
    }

    private async Task EnsureFenceTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var exists = await PostgresCommands.Create(connection, PostgresFenceSql.TableExists)
            .With("table", _fenceTable!)
            .ScalarInt64Async(cancellationToken).ConfigureAwait(false);
        if (exists is null or 0)
        {
            try
            {
                await PostgresCommands.Create(connection, PostgresFenceSql.CreateTable(_fenceTable!)).NonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState is "23505" or "42P07")
            {
                // Another process created it at the same moment: IF NOT EXISTS does not cover that race in the catalog.
            }
        }

        _fenceTableReady = true;
        Log.FenceTableEnsured(_logger, Name, _fenceTable!);
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

    private static async ValueTask DisposeAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        // Disposing an open transaction rolls it back; a broken connection is discarded by the pool.
        try
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // A broken connection cannot roll back; the server does when the session ends.
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Handle(
        PostgresTransactionStage stage,
        LockContext context,
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
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

                if (outerLeaseLost.IsCancellationRequested)
                {
                    await transaction.RollbackAsync().ConfigureAwait(false);
                    var lostStage = context.LeaseLostStage ?? stage.Name;
                    Log.CommitRefusedLeaseLost(stage._logger, stage.Name, context.Keys.First.Resource, lostStage);
                    throw new LockLeaseLostException(
                        context.Keys.First.Resource,
                        lostStage,
                        stage._timeProvider.GetElapsedTime(started),
                        "the lock of an outer stage was lost before the commit; the transaction was rolled back instead of committed.");
                }

                await CommitAsync().ConfigureAwait(false);
            }
            finally
            {
                await DisposeAsync(connection, transaction).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// <c>SELECT 1; COMMIT</c> in one round trip: PostgreSQL answers a COMMIT of an aborted transaction (a statement
        /// failed and the work caught it) with a rollback and no error, and Npgsql reports that as committed. The
        /// <c>SELECT 1</c> fails with 25P02 in such a transaction, and the server then skips the COMMIT.
        /// </summary>
        private async ValueTask CommitAsync()
        {
            var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands = { new NpgsqlBatchCommand("SELECT 1"), new NpgsqlBatchCommand("COMMIT") },
            };
            try
            {
                await using (batch.ConfigureAwait(false))
                {
                    await batch.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (PostgresException ex) when (ex.SqlState == InFailedTransaction)
            {
                await transaction.RollbackAsync().ConfigureAwait(false);
                throw new PostgresTransactionAbortedException(context.Keys.First.Resource, stage.Name, stage._timeProvider.GetElapsedTime(started), ex);
            }
            catch (Exception ex) when (!PostgresErrors.CommitRefusedByServer(ex))
            {
                throw new LockCommitOutcomeUnknownException(context.Keys.First.Resource, stage.Name, stage._timeProvider.GetElapsedTime(started), ex);
            }
        }
    }
}
