using Dapper;
using DualLock;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Locking;

namespace UserPointApi.Points;

/// <summary>
/// Runs a transfer under the strategy configured for <c>transfer</c>, holding the key set {user-point:from,
/// user-point:to}: every stage acquires it in one canonical order (the lower user id first), so opposite transfers
/// and single-key writes of either user cannot deadlock. <c>combined</c> runs as plain dual here: transfers are not combined.
/// </summary>
public sealed class PointTransfers(
    IServiceProvider services,
    IOptions<LockingOptions> lockingOptions,
    Database database,
    TransferMutations mutations)
{
    private readonly LockingOptions _locking = lockingOptions.Value;

    public async Task<TransferDto> ExecuteAsync(TransferCommand command, CancellationToken cancellationToken)
    {
        var progress = new WriteProgress();
        try
        {
            return await RunAsync(command, progress, cancellationToken);
        }
        catch (Exception ex) when (ex is DualLock.MySql.MySqlRowNotFoundException or DualLock.PostgreSql.PostgresRowNotFoundException)
        {
            // The row lock found fewer rows than keys before the work ran: say which user is missing.
            throw await MissingUserAsync(command, cancellationToken);
        }
        catch (Exception ex) when (progress.WorkDone && ErrorHandlingMiddleware.IsConnectionLoss(ex))
        {
            throw WriteProgress.OutcomeUnknown("transfer");
        }
    }

    private async Task<TransferDto> RunAsync(TransferCommand command, WriteProgress progress, CancellationToken cancellationToken)
    {
        var pipeline = services.GetRequiredKeyedService<ILockStrategy>(TransferCommand.Operation);
        var scope = _locking.ScopeByOperation ? TransferCommand.Operation : null;
        LockKeySet keys = [new("user-point", command.FromUserId, scope), new("user-point", command.ToUserId, scope)];
        var raceWindow = TimeSpan.FromMilliseconds(_locking.RaceWindowMs);

        // Optimistic compares and sets both rows' versions; a conflict on either rolls both back and re-runs.
        return await pipeline.ExecuteAsync(
            keys,
            (context, ct) => StrategyWiring.InTransactionAsync(
                context,
                database,
                async (connection, transaction, token) => progress.Done(await mutations.RunAsync(connection, transaction, command, StrategyWiring.WriteModeOf(context), raceWindow, token)),
                ct),
            cancellationToken: cancellationToken);
    }

    private async Task<ApiException> MissingUserAsync(TransferCommand command, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var found = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT user_id FROM user_points WHERE user_id IN (@from, @to)",
            new { from = command.FromUserId, to = command.ToUserId },
            cancellationToken: cancellationToken))).ToList();
        return found.Contains(command.FromUserId, StringComparer.OrdinalIgnoreCase) ? TransferMutations.ReceiverNotFound() : TransferMutations.SenderNotFound();
    }
}
