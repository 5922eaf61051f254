using System.Data.Common;
using DualLock;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Locking;

namespace UserPointApi.Points;

/// <summary>Runs a write under the lock strategy configured for its operation.</summary>
public sealed class PointService(
    IServiceProvider services,
    IOptions<LockingOptions> lockingOptions,
    Database database,
    PointMutations mutations,
    EfPointMutations efMutations,
    IOptions<PointOptions> pointOptions,
    CombinedPointWrites combined)
{
    private readonly LockingOptions _locking = lockingOptions.Value;
    private readonly bool _ef = pointOptions.Value.UsesEf;

    /// <summary>The operations that write through EF Core under <c>Points:DataAccess=ef</c>; refund and transfer stay raw.</summary>
    public static bool WritesThroughEf(string operation) => operation is PointCommand.Charge or PointCommand.Use;

    public async Task<PointWriteDto> ExecuteAsync(PointCommand command, CancellationToken cancellationToken)
    {
        var progress = new WriteProgress();
        try
        {
            return await RunAsync(command, progress, cancellationToken);
        }
        catch (Exception ex) when (progress.WorkDone && ErrorHandlingMiddleware.IsConnectionLoss(ex))
        {
            throw WriteProgress.OutcomeUnknown("write");
        }
    }

    private async Task<PointWriteDto> RunAsync(PointCommand command, WriteProgress progress, CancellationToken cancellationToken)
    {
        var pipeline = services.GetRequiredKeyedService<ILockStrategy>(command.Operation);
        var key = new LockKey("user-point", command.UserId, _locking.ScopeByOperation ? command.Operation : null);
        var raceWindow = TimeSpan.FromMilliseconds(_locking.RaceWindowMs);
        if (combined.Handles(command.Operation))
        {
            // Queued with the other writes of this user in this instance; the leader runs them in one transaction.
            var write = new CombinedWrite(command);
            try
            {
                return await combined.ExecuteAsync(key, write, cancellationToken);
            }
            finally
            {
                if (write.WorkDone)
                {
                    progress.Done(true);
                }
            }
        }

        if (_ef && WritesThroughEf(command.Operation))
        {
            // The stage enlisted a PointsDb in its transaction; it commits (and saves anything left) when this returns.
            return await pipeline.ExecuteAsync(
                key,
                async (context, ct) => progress.Done(await efMutations.RunAsync(context, command, raceWindow, ct)),
                cancellationToken: cancellationToken);
        }

        // Every strategy the same call: the context says how to write (and an optimistic one re-runs a lost compare-and-set).
        return await pipeline.ExecuteAsync(
            key,
            (context, ct) => StrategyWiring.InTransactionAsync(
                context,
                database,
                async (connection, transaction, token) => progress.Done(await mutations.RunAsync(connection, transaction, command, StrategyWiring.WriteModeOf(context), raceWindow, token)),
                ct),
            cancellationToken: cancellationToken);
    }
}

/// <summary>Whether a write's statements all ran, so a failure after it happened while committing.</summary>
internal sealed class WriteProgress
{
    public bool WorkDone { get; private set; }

    /// <summary>
    /// The answer when the work ran and the connection broke while committing: the server may have committed.
    /// Saying "nothing was changed" would be a lie the client acts on; say that the outcome is unknown.
    /// </summary>
    public static ApiException OutcomeUnknown(string what) => new(
        StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.OutcomeUnknown,
        $"The database connection was lost while the {what} was committing: it may or may not have been applied. Retry with the same Idempotency-Key to learn which.",
        2);

    public T Done<T>(T result)
    {
        WorkDone = true;
        return result;
    }
}

/// <summary>An open connection and transaction owned by someone else.</summary>
public sealed record OpenTransaction(DbConnection Connection, DbTransaction Transaction);
