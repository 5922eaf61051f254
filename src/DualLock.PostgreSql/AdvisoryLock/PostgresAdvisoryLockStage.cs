using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace DualLock.PostgreSql;

/// <summary>
/// Takes a transaction-scoped advisory lock (<c>pg_advisory_xact_lock</c>) per key inside the work's transaction. The
/// server releases it when the transaction commits or rolls back, so release does nothing, a lock never outlives its
/// transaction, and it is safe behind PgBouncer in transaction mode (a session-level lock is not).
/// </summary>
internal sealed class PostgresAdvisoryLockStage : LockStage
{
    private readonly string _namespace;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public PostgresAdvisoryLockStage(PostgresAdvisoryLockOptions options, TimeProvider timeProvider, ILogger logger)
        : base(options.Name)
    {
        _namespace = options.Namespace;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The lock is held until the transaction of the outer transaction stage ends.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.HeldByTransaction;

    /// <summary>A set's locks in ascending id order, one statement each in one round trip, within one wait for the set.</summary>
    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return LockAsync(context, waitTimeout, cancellationToken);
    }

    private async ValueTask<LockStageHandle?> LockAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var transaction = context.GetRequiredFeature<PostgresTransactionFeature>();
        var started = _timeProvider.GetTimestamp();

        // Every caller takes a set's locks in the same (id) order, so two overlapping sets cannot deadlock; two keys
        // with the same id are one lock.
        var ids = new SortedSet<long>();
        foreach (var key in context.Keys)
        {
            ids.Add(AdvisoryLockId.For(_namespace, key));
        }

        var tryOnce = waitTimeout <= TimeSpan.Zero;
        var sql = new StringBuilder(64 * (ids.Count + 2));
        if (!tryOnce)
        {
            sql.Append(PostgresCommands.LockTimeout(waitTimeout)).Append("; ");
        }

        for (var i = 0; i < ids.Count; i++)
        {
            sql.Append(tryOnce ? "SELECT pg_try_advisory_xact_lock(@k" : "SELECT 1 FROM pg_advisory_xact_lock(@k").Append(i.ToString(CultureInfo.InvariantCulture)).Append("); ");
        }

        if (!tryOnce)
        {
            sql.Append(PostgresCommands.ResetLockTimeout);
        }

        var command = PostgresCommands.Create(transaction.Connection, sql.ToString(), transaction.Transaction);
        var n = 0;
        foreach (var id in ids)
        {
            command.With("k" + (n++).ToString(CultureInfo.InvariantCulture), id);
        }

        var locked = await LockingStatement.CountRowsAsync(command, context.Keys.First.Resource, Name, waitTimeout, waitTimeout, started, _timeProvider, _logger, cancellationToken).ConfigureAwait(false);

        // A try that missed: not acquired. The locks it did take end with the transaction, which the pipeline rolls back.
        return locked == ids.Count ? Held : null;
    }

    private static readonly Handle Held = new();

    private sealed class Handle : LockStageHandle
    {
        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
