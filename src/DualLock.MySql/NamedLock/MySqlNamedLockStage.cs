using Dapper;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// <c>GET_LOCK(name, timeout)</c> on a connection of its own, held until release. Must sit outside the
/// transaction stage: the lock is then released only after the transaction committed, so the next
/// holder cannot read the data the previous holder is still committing.
/// </summary>
internal sealed class MySqlNamedLockStage : LockStage
{
    private const string GetLockSql = "SELECT GET_LOCK(@name, @seconds)";
    private const string ReleaseLockSql = "SELECT RELEASE_LOCK(@name)";

    private readonly string _connectionString;
    private readonly string _prefix;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public MySqlNamedLockStage(MySqlNamedLockOptions options, TimeProvider timeProvider, ILogger logger)
        : base(options.Name)
    {
        _connectionString = options.ConnectionString!;
        _prefix = options.Prefix;
        _retryDelay = options.RetryDelay;
        _maxRetryDelay = options.MaxRetryDelay;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>A lock on a connection of its own: it must sit outside the transaction stage.</summary>
    protected override LockStageTraits Traits => LockStageTraits.Excludes;

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<MySqlTransactionFeature>() is not null)
        {
            throw new InvalidOperationException(
                $"The named lock stage '{Name}' of pipeline '{context.PipelineName}' was added inside a MySQL transaction stage. Add it before (outside) the transaction stage: " +
                "released inside, the named lock would be free before the transaction commits and the next holder could read the old data.");
        }

        var name = NamedLockName.For(_prefix, context.Key);
        var started = _timeProvider.GetTimestamp();
        var connection = new MySqlConnection(_connectionString);
        var acquired = false;
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            for (var attempt = 0; ; attempt++)
            {
                var remaining = waitTimeout - _timeProvider.GetElapsedTime(started);

                // GET_LOCK takes whole seconds on MySQL; the server waits the whole seconds, the remainder is polled.
                var seconds = remaining > TimeSpan.Zero ? (int)Math.Floor(remaining.TotalSeconds) : 0;
                var result = await connection.ExecuteScalarAsync<long?>(
                    new CommandDefinition(GetLockSql, new { name, seconds }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (result == 1)
                {
                    acquired = true;
                    return new Handle(this, context.Key.Resource, connection, name, attempt > 0);
                }

                if (result is null)
                {
                    throw new InvalidOperationException($"GET_LOCK returned NULL for the '{Name}' lock on resource '{context.Key.Resource}' (the server ran out of memory or the query was killed).");
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
            Log.LockFailed(_logger, Name, context.Key.Resource, (int)ex.ErrorCode);
            throw new LockTimeoutException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
        {
            throw new LockUnavailableException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
        }
        finally
        {
            if (!acquired)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class Handle(MySqlNamedLockStage stage, string resource, MySqlConnection connection, string name, bool contended) : LockStageHandle
    {
        public override bool Contended => contended;

        public override async ValueTask ReleaseAsync(bool workSucceeded)
        {
            try
            {
                await connection.ExecuteScalarAsync<long?>(new CommandDefinition(ReleaseLockSql, new { name })).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MySqlException || MySqlErrors.IsUnavailable(ex))
            {
                // A lost session has released its named locks already: nothing is left held.
                Log.NamedLockReleaseFailed(stage._logger, stage.Name, resource, ex);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
