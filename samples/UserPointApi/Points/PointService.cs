using System.Data;
using DualLock;
using Microsoft.Extensions.Options;
using MySqlConnector;
using UserPointApi.Data;
using UserPointApi.Locking;

namespace UserPointApi.Points;

/// <summary>Runs a write under the lock strategy configured for its operation.</summary>
public sealed class PointService(
    IServiceProvider services,
    IOptions<LockingOptions> lockingOptions,
    Database database,
    PointMutations mutations,
    StrategyWiring wiring)
{
    private readonly LockingOptions _locking = lockingOptions.Value;

    public async Task<PointWriteDto> ExecuteAsync(PointCommand command, CancellationToken cancellationToken)
    {
        var strategy = _locking.StrategyFor(command.Operation);
        var pipeline = services.GetRequiredKeyedService<LockPipeline>(command.Operation);
        var key = new LockKey("user-point", command.UserId, _locking.ScopeByOperation ? command.Operation : null);
        var raceWindow = TimeSpan.FromMilliseconds(_locking.RaceWindowMs);
        var mode = strategy switch
        {
            LockStrategy.Atomic => WriteMode.Atomic,
            LockStrategy.Optimistic => WriteMode.CompareAndSet,
            _ => WriteMode.ReadModifyWrite,
        };

        if (strategy == LockStrategy.Optimistic)
        {
            // Optimistic takes no lock: the executor re-runs the transaction after a lost compare-and-set. The
            // pipeline (one no-lock stage) only makes the operation visible in the same metrics as the others.
            return await pipeline.ExecuteAsync(
                key,
                (_, ct) => wiring.ExecuteOptimisticAsync(
                    key,
                    (connection, transaction, token) => mutations.RunAsync(connection, transaction, command, mode, raceWindow, token),
                    ct),
                cancellationToken);
        }

        return await pipeline.ExecuteAsync(
            key,
            async (context, ct) =>
            {
                if (StrategyWiring.StageTransaction(context) is { } stage)
                {
                    // The pipeline's transaction stage owns the transaction: it commits after the work, inside the outer locks.
                    return await mutations.RunAsync(stage.Connection, stage.Transaction, command, mode, raceWindow, ct);
                }

                await using var connection = await database.OpenAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                var result = await mutations.RunAsync(connection, transaction, command, mode, raceWindow, ct);
                await transaction.CommitAsync(ct);
                return result;
            },
            cancellationToken);
    }
}

/// <summary>An open connection and transaction owned by someone else.</summary>
public sealed record OpenTransaction(MySqlConnection Connection, MySqlTransaction Transaction);
