using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Locks the resource's row with <c>SELECT ... FOR UPDATE</c> inside the work's transaction; the row
/// stays locked until the transaction stage commits or rolls back, so release does nothing.
/// </summary>
internal sealed class MySqlRowLockStage : LockStage
{
    private readonly string _waitSql;
    private readonly string _noWaitSql;
    private readonly string _target;
    private readonly MySqlRowLockWaitMode _waitMode;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public MySqlRowLockStage(MySqlRowLockOptions options, TimeProvider timeProvider, ILogger logger)
        : base(options.Name)
    {
        if (options.Sql is { } sql)
        {
            _waitSql = _noWaitSql = sql;
            _target = "the configured statement";
        }
        else
        {
            var table = SqlIdentifier.Quote(options.Table!);
            var column = SqlIdentifier.Quote(options.KeyColumn!);
            _waitSql = $"SELECT 1 FROM {table} WHERE {column} = @id FOR UPDATE";
            _noWaitSql = _waitSql + " NOWAIT";
            _target = $"{table}.{column}";
        }

        _waitMode = options.WaitMode;
        _retryDelay = options.RetryDelay;
        _maxRetryDelay = options.MaxRetryDelay;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The row stays locked until the transaction of the outer transaction stage ends.</summary>
    protected override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.HeldByTransaction;

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var transaction = context.GetRequiredFeature<MySqlTransactionFeature>();
        var parameters = new { id = context.Key.Id, resource = context.Key.Resource, scope = context.Key.Scope, key = context.Key.ToString() };
        var started = _timeProvider.GetTimestamp();
        var contended = false;
        for (var attempt = 0; ; attempt++)
        {
            var remaining = waitTimeout - _timeProvider.GetElapsedTime(started);
            try
            {
                var found = await LockAsync(transaction, CommandText(remaining), parameters, cancellationToken).ConfigureAwait(false);
                if (!found)
                {
                    throw new MySqlRowNotFoundException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), _target);
                }

                return contended ? ContendedHandle : UncontendedHandle;
            }
            catch (MySqlException ex) when (MySqlErrors.IsLockWait(ex) && _waitMode == MySqlRowLockWaitMode.NoWaitRetry)
            {
                // A lock-wait error rolls back the statement only, so the transaction can try again.
                contended = true;
                remaining = waitTimeout - _timeProvider.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    throw Timeout(context, waitTimeout, started, ex);
                }

                var delay = Backoff.Delay(attempt, _retryDelay, _maxRetryDelay);
                await Task.Delay(delay < remaining ? delay : remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException ex) when (MySqlErrors.IsLockWait(ex) || MySqlErrors.IsDeadlock(ex))
            {
                // A deadlock has already rolled the whole transaction back; the pipeline's release rolls back the rest.
                throw Timeout(context, waitTimeout, started, ex);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
            }
        }
    }

    private string CommandText(TimeSpan remaining)
    {
        if (_waitMode == MySqlRowLockWaitMode.NoWaitRetry || (remaining <= TimeSpan.Zero && !ReferenceEquals(_waitSql, _noWaitSql)))
        {
            return _noWaitSql;
        }

        // The variable is whole seconds, at least 1; batching it with the locking read keeps one round trip.
        var seconds = Math.Max(1, (int)Math.Ceiling(remaining.TotalSeconds));
        return string.Create(CultureInfo.InvariantCulture, $"SET SESSION innodb_lock_wait_timeout = {seconds}; {_waitSql}");
    }

    private static async Task<bool> LockAsync(MySqlTransactionFeature transaction, string sql, object parameters, CancellationToken cancellationToken)
    {
        var command = new CommandDefinition(sql, parameters, transaction.Transaction, cancellationToken: cancellationToken);
        var reader = await transaction.Connection.ExecuteReaderAsync(command).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private LockTimeoutException Timeout(LockContext context, TimeSpan waitTimeout, long started, MySqlException ex)
    {
        Log.LockFailed(_logger, Name, context.Key.Resource, (int)ex.ErrorCode);
        return new LockTimeoutException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
    }

    private static readonly Handle UncontendedHandle = new(false);
    private static readonly Handle ContendedHandle = new(true);

    private sealed class Handle(bool contended) : LockStageHandle
    {
        public override bool Contended => contended;

        // The row lock ends with the transaction, which the transaction stage (released next) commits or rolls back.
        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
