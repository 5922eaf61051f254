using System.Globalization;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Locks the resource's row with <c>SELECT ... FOR UPDATE</c> inside the work's transaction; the row
/// stays locked until the transaction stage commits or rolls back, so release does nothing.
/// </summary>
internal sealed class MySqlRowLockStage : LockStage
{
    private const int Unknown = 0;
    private const int Off = 1;
    private const int On = 2;

    private readonly string _waitSql;
    private readonly string _noWaitSql;
    private readonly string _target;

    // The multi-key statement's parts; null with a configured statement (then keys are locked one by one, in order).
    private readonly string? _manyPrefix;
    private readonly string? _manySuffix;
    private readonly MySqlRowLockWaitMode _waitMode;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private volatile int _rollbackOnTimeout;

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

            // InnoDB locks the rows in the order it reads them: ORDER BY the key column makes that the index order,
            // the same for every caller, so two sets that overlap cannot each hold a row the other waits for.
            _manyPrefix = $"SELECT 1 FROM {table} WHERE {column} IN (";
            _manySuffix = $") ORDER BY {column} FOR UPDATE";
        }

        _waitMode = options.WaitMode;
        _retryDelay = options.RetryDelay;
        _maxRetryDelay = options.MaxRetryDelay;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The row stays locked until the transaction of the outer transaction stage ends.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.HeldByTransaction;

    /// <summary>
    /// The key's row; a set's rows in one <c>SELECT ... WHERE key IN (...) ORDER BY key FOR UPDATE</c> within one wait
    /// for the set (or row by row, in canonical order, when the table has no set statement).
    /// </summary>
    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Keys.Count == 1 || _manyPrefix is null)
        {
            return AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= LockRowAsync, cancellationToken);
        }

        // Keys of other resources or scopes may name the same row: it is locked (and counted) once.
        var ids = new List<string>(context.Keys.Count);
        foreach (var key in context.Keys)
        {
            if (!ids.Contains(key.Id))
            {
                ids.Add(key.Id);
            }
        }

        return LockRowsAsync(context, context.Keys.First, [.. ids], waitTimeout, cancellationToken);
    }

    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    private ValueTask<LockStageHandle?> LockRowAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => LockRowsAsync(context, key, null, waitTimeout, cancellationToken);

    /// <summary>Locks the key's row, or with <paramref name="ids"/> every row of the set in one statement; retries or waits within the wait.</summary>
    private async ValueTask<LockStageHandle?> LockRowsAsync(LockContext context, LockKey key, string[]? ids, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var transaction = context.GetRequiredFeature<MySqlTransactionFeature>();
        var started = _timeProvider.GetTimestamp();
        var contended = false;
        for (var attempt = 0; ; attempt++)
        {
            var remaining = waitTimeout - _timeProvider.GetElapsedTime(started);
            MySqlException missed;
            var serverWait = _waitMode == MySqlRowLockWaitMode.LockWaitTimeout && remaining > TimeSpan.Zero;

            // The server counts the lock wait in whole seconds; the deadline interrupts it (KILL QUERY) when what is left of the wait is over.
            using var deadline = serverWait ? WaitDeadline.After(remaining, _timeProvider, cancellationToken) : null;
            try
            {
                var found = ids is null
                    ? await LockAsync(transaction, CommandText(remaining), key, deadline?.Token ?? cancellationToken).ConfigureAwait(false)
                    : await LockAllAsync(transaction, CommandText(remaining, ids.Length), ids, deadline?.Token ?? cancellationToken).ConfigureAwait(false);
                if (!found)
                {
                    throw new MySqlRowNotFoundException(key.Resource, Name, _timeProvider.GetElapsedTime(started), _target);
                }

                return contended ? ContendedHandle : UncontendedHandle;
            }
            catch (Exception ex) when (deadline is { Expired: true } && ex is not MySqlRowNotFoundException)
            {
                // Interrupted at the deadline: MySqlConnector reports the server's QueryInterrupted inside an OperationCanceledException.
                throw Timeout(context, waitTimeout, started, ex is OperationCanceledException { InnerException: MySqlException interrupted } ? interrupted : ex);
            }
            catch (MySqlException ex) when (MySqlErrors.IsLockWait(ex) && _waitMode == MySqlRowLockWaitMode.NoWaitRetry)
            {
                missed = ex;
            }
            catch (MySqlException ex) when (MySqlErrors.IsLockWait(ex) || MySqlErrors.IsDeadlock(ex))
            {
                // A deadlock has already rolled the whole transaction back; the pipeline's release rolls back the rest.
                throw Timeout(context, waitTimeout, started, ex);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
            }

            // A lock-wait error rolls back the statement only, so the transaction can try again, unless the server
            // runs with innodb_rollback_on_timeout=ON: then the whole transaction is gone and a retry would run in
            // autocommit, its lock ending with the statement. That is a timeout, not a retry.
            contended = true;
            remaining = waitTimeout - _timeProvider.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero || await RollsBackOnTimeoutAsync(transaction, cancellationToken).ConfigureAwait(false))
            {
                throw Timeout(context, waitTimeout, started, missed);
            }

            var delay = Backoff.Delay(attempt, _retryDelay, _maxRetryDelay);
            await Task.Delay(delay < remaining ? delay : remaining, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads <c>innodb_rollback_on_timeout</c> (a server start-up option) once per stage, at the first miss.</summary>
    private async ValueTask<bool> RollsBackOnTimeoutAsync(MySqlTransactionFeature transaction, CancellationToken cancellationToken)
    {
        var known = _rollbackOnTimeout;
        if (known != Unknown)
        {
            return known == On;
        }

        bool on;
        try
        {
            on = await MySqlCommands.Create(transaction.Connection, "SELECT @@innodb_rollback_on_timeout", transaction.Transaction)
                .ScalarInt64Async(cancellationToken).ConfigureAwait(false) is not (null or 0);
        }
        catch (MySqlException)
        {
            return true; // unknown: a retry that might run without the transaction is not worth the risk
        }

        _rollbackOnTimeout = on ? On : Off;
        if (on)
        {
            Log.RollbackOnTimeoutOn(_logger, Name);
        }

        return on;
    }

    private string CommandText(TimeSpan remaining, int keyCount = 0)
    {
        var noWait = _waitMode == MySqlRowLockWaitMode.NoWaitRetry || (remaining <= TimeSpan.Zero && !ReferenceEquals(_waitSql, _noWaitSql));
        var sql = keyCount == 0 ? _waitSql : ManySql(keyCount);
        if (noWait)
        {
            return keyCount == 0 ? _noWaitSql : sql + " NOWAIT";
        }

        // The variable is whole seconds, at least 1 (the deadline ends the wait on time); batching it with the locking read keeps one round trip.
        return string.Create(CultureInfo.InvariantCulture, $"SET SESSION innodb_lock_wait_timeout = {WaitDeadline.ServerSeconds(remaining)}; {sql}");
    }

    private string ManySql(int keyCount)
    {
        var sql = new System.Text.StringBuilder(_manyPrefix, _manyPrefix!.Length + _manySuffix!.Length + (keyCount * 6));
        for (var i = 0; i < keyCount; i++)
        {
            sql.Append(i == 0 ? "@id" : ", @id").Append(i.ToString(CultureInfo.InvariantCulture));
        }

        return sql.Append(_manySuffix).ToString();
    }

    /// <summary>Locks every row of the set; true when each id had its row.</summary>
    private static async Task<bool> LockAllAsync(MySqlTransactionFeature transaction, string sql, string[] ids, CancellationToken cancellationToken)
    {
        var command = MySqlCommands.Create(transaction.Connection, sql, transaction.Transaction);
        for (var i = 0; i < ids.Length; i++)
        {
            command = command.With("id" + i.ToString(CultureInfo.InvariantCulture), ids[i]);
        }

        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var rows = 0;
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows++;
                }

                return rows == ids.Length;
            }
        }
    }

    private static async Task<bool> LockAsync(MySqlTransactionFeature transaction, string sql, LockKey key, CancellationToken cancellationToken)
    {
        // The parameters a configured statement may use: @id, @resource, @scope and @key (the key's text).
        var command = MySqlCommands.Create(transaction.Connection, sql, transaction.Transaction)
            .With("id", key.Id)
            .With("resource", key.Resource)
            .With("scope", key.Scope)
            .With("key", key.ToString());
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private LockTimeoutException Timeout(LockContext context, TimeSpan waitTimeout, long started, Exception ex)
    {
        Log.LockFailed(_logger, Name, context.Keys.First.Resource, ex is MySqlException mysql ? (int)mysql.ErrorCode : (int)MySqlErrorCode.QueryInterrupted);
        return new LockTimeoutException(context.Keys.First.Resource, Name, _timeProvider.GetElapsedTime(started), waitTimeout, ex);
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
