using System.Runtime.ExceptionServices;
using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace DualLock.EntityFrameworkCore;

/// <summary>
/// The MySQL transaction stage with a <typeparamref name="TContext"/> enlisted in its transaction: the wrapped
/// stage opens the connection, begins and fences exactly as <c>AddMySqlTransaction</c> does; this one then creates
/// a context for the execution on that connection and transaction, and before the commit saves what the work left
/// unsaved. A failed save rolls back and reaches the caller, as a failed commit does.
/// </summary>
internal sealed class EntityFrameworkCoreTransactionStage<TContext> : LockStage
    where TContext : DbContext
{
    private readonly LockStage _transaction;
    private readonly IDbContextFactory<TContext> _contexts;
    private readonly ILogger _logger;

    public EntityFrameworkCoreTransactionStage(LockStage transaction, IDbContextFactory<TContext> contexts, ILogger logger)
        : base(transaction.Name)
    {
        _transaction = transaction;
        _contexts = contexts;
        _logger = logger;
    }

    /// <summary>The wrapped stage's: it opens the transaction (and, with EnforceFencing, enforces the outer token).</summary>
    protected internal override LockStageTraits Traits => _transaction.Traits;

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var transaction = await _transaction.TryAcquireAsync(context, waitTimeout, cancellationToken).ConfigureAwait(false);
        if (transaction is null)
        {
            return null;
        }

        TContext? db = null;
        try
        {
            var feature = context.GetRequiredFeature<MySqlTransactionFeature>();
            db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            if (db.Database.CurrentTransaction is not null || db.ChangeTracker.HasChanges())
            {
                // A factory handing out a context in use (a shared or scoped one): its earlier changes would be
                // committed under this lock, and its own transaction would not be the lock's.
                throw new InvalidOperationException(
                    $"The {typeof(TContext).Name} that stage '{Name}' of pipeline '{context.PipelineName}' got from its IDbContextFactory already has a transaction or unsaved changes: the stage needs a new context per execution (register it with AddDbContextFactory or AddPooledDbContextFactory).");
            }

            var connection = DbContextConnection.Enlist(db, feature.Connection);
            await db.Database.UseTransactionAsync(feature.Transaction, cancellationToken).ConfigureAwait(false);
            context.SetFeature(new DbContextFeature<TContext>(db));
            return new Handle(this, context, transaction, db, connection);
        }
        catch
        {
            if (db is not null)
            {
                await db.DisposeAsync().ConfigureAwait(false);
            }

            await transaction.ReleaseAsync(workSucceeded: false).ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Handle(
        EntityFrameworkCoreTransactionStage<TContext> stage,
        LockContext context,
        LockStageHandle transaction,
        TContext db,
        DbContextConnection connection) : LockStageHandle
    {
        public override bool Contended => transaction.Contended;

        public override long? FencingToken => transaction.FencingToken;

        public override IReadOnlyList<long?>? FencingTokens => transaction.FencingTokens;

        public override CancellationToken LeaseLost => transaction.LeaseLost;

        public override void MarkSuperseded() => transaction.MarkSuperseded();

        public override async ValueTask ReleaseAsync(bool workSucceeded)
        {
            Exception? saveFailure = null;
            try
            {
                if (workSucceeded && db.ChangeTracker.HasChanges())
                {
                    // Inside the transaction and every lock: the same as the work calling SaveChangesAsync last. Not cancellable,
                    // like the commit: the caller's token belongs to the work, which has returned.
                    var saved = await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
                    Log.SavedLeftChanges(stage._logger, stage.Name, context.Keys.First.Resource, saved);
                }
            }
            catch (Exception ex)
            {
                saveFailure = ex;
                Log.SaveFailed(stage._logger, stage.Name, context.Keys.First.Resource, ex);
            }
            finally
            {
                connection.Restore();
                await db.DisposeAsync().ConfigureAwait(false);
            }

            if (saveFailure is null)
            {
                await transaction.ReleaseAsync(workSucceeded).ConfigureAwait(false);
                return;
            }

            try
            {
                await transaction.ReleaseAsync(workSucceeded: false).ConfigureAwait(false);
            }
            finally
            {
                // The save's failure is the caller's answer (what the work wrote is not kept); a rollback that also failed is the pool's to clean up.
                ExceptionDispatchInfo.Throw(saveFailure);
            }
        }
    }
}
