using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace DualLock.PostgreSql;

/// <summary>
/// Locks the resource's row with <c>SELECT ... FOR UPDATE</c> inside the work's transaction; the row stays locked until
/// the transaction stage commits or rolls back, so release does nothing.
/// </summary>
internal sealed class PostgresRowLockStage : LockStage
{
    private readonly string _select;
    private readonly string _column;
    private readonly string _target;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public PostgresRowLockStage(PostgresRowLockOptions options, TimeProvider timeProvider, ILogger logger)
        : base(options.Name)
    {
        var table = (options.Schema is { } schema ? PostgresIdentifier.Quote(schema) + "." : string.Empty) + PostgresIdentifier.Quote(options.Table!);
        _column = PostgresIdentifier.Quote(options.KeyColumn!);
        _select = $"SELECT 1 FROM {table} WHERE {_column}";
        _target = $"{table}.{_column}";
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The row stays locked until the transaction of the outer transaction stage ends.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.HeldByTransaction;

    /// <summary>The key's row; a set's rows in one <c>SELECT ... WHERE key IN (...) ORDER BY key FOR UPDATE</c> within one wait for the set.</summary>
    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return LockRowsAsync(context, waitTimeout, cancellationToken);
    }

    private async ValueTask<LockStageHandle?> LockRowsAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var transaction = context.GetRequiredFeature<PostgresTransactionFeature>();
        var started = _timeProvider.GetTimestamp();

        // Keys of other resources or scopes may name the same row: it is locked (and counted) once.
        var ids = new List<string>(context.Keys.Count);
        foreach (var key in context.Keys)
        {
            if (!ids.Contains(key.Id))
            {
                ids.Add(key.Id);
            }
        }

        var command = PostgresCommands.Create(transaction.Connection, CommandText(waitTimeout, ids.Count), transaction.Transaction);
        for (var i = 0; i < ids.Count; i++)
        {
            command.WithUntyped("id" + i.ToString(CultureInfo.InvariantCulture), ids[i]);
        }

        var resource = context.Keys.First.Resource;
        var rows = await LockingStatement.CountRowsAsync(command, resource, Name, waitTimeout, waitTimeout, started, _timeProvider, _logger, cancellationToken).ConfigureAwait(false);
        if (rows < ids.Count)
        {
            throw new PostgresRowNotFoundException(resource, Name, _timeProvider.GetElapsedTime(started), _target);
        }

        return Held;
    }

    /// <summary>
    /// PostgreSQL locks the rows as the sorted result reaches them: ORDER BY the key column makes that order the same for
    /// every caller, so two sets that overlap cannot each hold a row the other waits for. A wait of zero tries once (NOWAIT).
    /// </summary>
    private string CommandText(TimeSpan waitTimeout, int keyCount)
    {
        var sql = new StringBuilder(128);
        if (waitTimeout > TimeSpan.Zero)
        {
            sql.Append(PostgresCommands.LockTimeout(waitTimeout)).Append("; ");
        }

        sql.Append(_select);
        if (keyCount == 1)
        {
            sql.Append(" = @id0 FOR UPDATE");
        }
        else
        {
            sql.Append(" IN (");
            for (var i = 0; i < keyCount; i++)
            {
                sql.Append(i == 0 ? "@id" : ", @id").Append(i.ToString(CultureInfo.InvariantCulture));
            }

            sql.Append(") ORDER BY ").Append(_column).Append(" FOR UPDATE");
        }

        return waitTimeout > TimeSpan.Zero
            ? sql.Append("; ").Append(PostgresCommands.ResetLockTimeout).ToString()
            : sql.Append(" NOWAIT").ToString();
    }

    private static readonly Handle Held = new();

    private sealed class Handle : LockStageHandle
    {
        // The row lock ends with the transaction, which the transaction stage (released next) commits or rolls back.
        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
