using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// <c>GET_LOCK(name, timeout)</c> on a connection of its own, held until release. Must sit outside the
/// transaction stage: the lock is then released only after the transaction committed, so the next
/// holder cannot read the data the previous holder is still committing.
/// </summary>
/// <remarks>
/// The lock lives as long as its session. A session that drops frees it on the server and nobody is
/// told, so the stage puts a <see cref="NamedLockGuard"/> in the context: a transaction stage inside
/// confirms the lock on this session (one round trip) before committing and refuses the commit when it
/// is gone. The handle's <see cref="LockStageHandle.LeaseLost"/> fires when the stage learns of the loss
/// (at that confirmation or at release), and a release that finds the lock gone is logged and counted.
/// Residual window: a session that drops after the confirmation and before the commit reaches the server
/// (one round trip) lets the next holder in while that commit is still arriving; it may read the data
/// as it was before the commit.
/// </remarks>
internal sealed class MySqlNamedLockStage : LockStage
{
    private const string GetLockSql = "SELECT GET_LOCK(@name, @seconds)";
    private const string ReleaseLockSql = "SELECT RELEASE_LOCK(@name)";

    private readonly string _connectionString;
    private readonly string _prefix;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly TimeProvider _timeProvider;

    public MySqlNamedLockStage(MySqlNamedLockOptions options, TimeProvider timeProvider, ILogger logger, Meter? meter = null)
        : base(options.Name)
    {
        Telemetry = MySqlTelemetry.For(meter);
        _connectionString = options.ConnectionString!;
        _prefix = options.Prefix;
        _retryDelay = options.RetryDelay;
        _maxRetryDelay = options.MaxRetryDelay;
        _timeProvider = timeProvider;
        Logger = logger;
    }

    internal ILogger Logger { get; }

    internal MySqlTelemetry Telemetry { get; }

    /// <summary>A lock on a connection of its own: it must sit outside the transaction stage.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes;

    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= AcquireKeyAsync, cancellationToken);

    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    private async ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        // Never inside a transaction stage: LockPipelineBuilder.Build() refuses that order (see Traits).
        var name = NamedLockName.For(_prefix, key);
        var started = _timeProvider.GetTimestamp();
        var connection = new MySqlConnection(_connectionString);
        var acquired = false;
        try
        {
            // A pool at its maximum waits for a free connection: that wait is bounded by what is left of ours.
            using (var deadline = WaitDeadline.After(Max(waitTimeout, WaitDeadline.MinimumRoundTrip), _timeProvider, cancellationToken))
            {
                try
                {
                    await connection.OpenAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (Exception) when (deadline.Expired)
                {
                    Log.OpenTimedOut(Logger, Name, key.Resource);
                    return null;
                }
            }

            for (var attempt = 0; ; attempt++)
            {
                var remaining = waitTimeout - _timeProvider.GetElapsedTime(started);

                // GET_LOCK takes whole seconds on MySQL; the server waits the whole seconds left (never more than is left), the remainder is polled.
                var seconds = remaining > TimeSpan.Zero ? (int)Math.Floor(remaining.TotalSeconds) : 0;

                // The round trip itself is bounded too: a server that stops answering (hung, not refused) would
                // otherwise hold the caller for the whole command timeout. At the deadline MySqlConnector kills the
                // query; a server that answers nothing, not even that, is ended by the command's own timeout (whole
                // seconds, just past the deadline), after which MySqlConnector waits its CancellationTimeout and
                // closes the connection, which frees any lock it got.
                long? result;
                var bound = Max(remaining, TimeSpan.Zero) + WaitDeadline.MinimumRoundTrip;
                using (var roundTrip = WaitDeadline.After(bound, _timeProvider, cancellationToken))
                {
                    try
                    {
                        var command = MySqlCommands.Create(connection, GetLockSql).With("name", name).With("seconds", seconds);
                        command.CommandTimeout = WaitDeadline.ServerSeconds(bound);
                        result = await command.ScalarInt64Async(roundTrip.Token).ConfigureAwait(false);
                    }
                    catch (Exception) when (roundTrip.Expired)
                    {
                        Log.GetLockUnanswered(Logger, Name, key.Resource, _timeProvider.GetElapsedTime(started).TotalMilliseconds);
                        return null;
                    }

                    if (result is null && roundTrip.Expired)
                    {
                        // KILL QUERY at our deadline: MariaDB answers the killed GET_LOCK with NULL.
                        return null;
                    }
                }

                if (result == 1)
                {
                    acquired = true;
                    var guard = new NamedLockGuard(this, context, connection, name, context.GetFeature<NamedLockGuard>());
                    context.SetFeature(guard);
                    return new Handle(this, key.Resource, connection, name, guard, attempt > 0);
                }

                if (result is null)
                {
                    // A cancelled GET_LOCK is ended with KILL QUERY, which MariaDB answers with NULL, not an error.
                    cancellationToken.ThrowIfCancellationRequested();
                    // Killed by someone else (an operator, a server-side limit) or out of memory: the server did not
                    // take the lock and said nothing more; a LockException, so callers mapping lock failures see it.
                    throw new LockUnavailableException(
                        key.Resource,
                        Name,
                        _timeProvider.GetElapsedTime(started),
                        new InvalidOperationException("GET_LOCK returned NULL: the server killed the query or ran out of memory, and did not take the lock."));
                }

                remaining = waitTimeout - _timeProvider.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    return null;
                }

                var delay = Backoff.Delay(attempt, _retryDelay, _maxRetryDelay);
                await Task.Delay(delay < remaining ? delay : remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (MySqlException ex) when (MySqlErrors.IsDeadlock(ex))
        {
            Log.LockFailed(Logger, Name, key.Resource, (int)ex.ErrorCode);
            throw new LockTimeoutException(key.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
        {
            throw new LockUnavailableException(key.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
        }
        finally
        {
            if (!acquired)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class Handle(MySqlNamedLockStage stage, string resource, MySqlConnection connection, string name, NamedLockGuard guard, bool contended) : LockStageHandle
    {
        public override bool Contended => contended;

        public override CancellationToken LeaseLost => guard.LeaseLost;

        public override async ValueTask ReleaseAsync(bool workSucceeded)
        {
            try
            {
                // 1 released; 0 held by another session, NULL free: either way this session had already lost it.
                var released = await MySqlCommands.Create(connection, ReleaseLockSql).With("name", name).ScalarInt64Async(CancellationToken.None).ConfigureAwait(false);
                if (released != 1)
                {
                    guard.ReportLost(released is null ? "RELEASE_LOCK found no such lock" : "RELEASE_LOCK found it held by another session");
                }
            }
            catch (Exception ex) when (ex is MySqlException || MySqlErrors.IsUnavailable(ex))
            {
                // A lost session has released its named locks already: nothing is left held, but the lock may have ended before the work did.
                Log.NamedLockReleaseFailed(stage.Logger, stage.Name, resource, ex);
                guard.ReportLost("its session broke before RELEASE_LOCK");
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                guard.Dispose();
            }
        }
    }
}
