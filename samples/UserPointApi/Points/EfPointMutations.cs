using DualLock;
using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>
/// Charge and use through EF Core (<c>Points:DataAccess=ef</c>): the same read-modify-write as the raw path's, with the
/// context the lock's transaction stage enlisted. The balance and its ledger entry are one <c>SaveChangesAsync</c>; the
/// idempotency completion runs on the same connection and transaction, so all three commit or roll back together.
/// </summary>
public sealed class EfPointMutations(PointMutations rules, IdempotencyStore idempotency, TimeProvider timeProvider)
{
    public async Task<PointWriteDto> RunAsync(LockContext context, PointCommand command, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        var db = context.GetDbContext<PointsDb>();
        var delta = command.Operation == PointCommand.Use ? -command.Amount : command.Amount;

        // A plain read: under the row or Redis lock it is the latest commit; under none it is the race the negative control shows.
        var point = await db.UserPoints.SingleOrDefaultAsync(p => p.UserId == command.UserId, cancellationToken)
            ?? throw PointMutations.NotFound();
        var balance = point.Amount + delta;
        rules.Check(balance, delta);
        if (raceWindow > TimeSpan.Zero)
        {
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        // DATETIME(6) keeps microseconds: the answer carries the instant as stored.
        var now = timeProvider.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
        point.Amount = balance;
        point.Version++;
        point.UpdatedAt = now;
        var entryId = Ids.New();
        db.Ledger.Add(new LedgerEntity { Id = entryId, UserId = command.UserId, Type = command.Operation, Amount = delta, BalanceAfter = balance, CreatedAt = now });
        await db.SaveChangesAsync(cancellationToken);

        var result = new PointWriteDto(point.Id, point.UserId, point.Amount, DateTime.SpecifyKind(point.CreatedAt, DateTimeKind.Utc), now, entryId);
        if (command.Claim is { } claim)
        {
            var transaction = context.GetRequiredFeature<MySqlTransactionFeature>();
            await idempotency.CompleteAsync(transaction.Connection, transaction.Transaction, claim, StatusCodes.Status200OK, ApiJson.Success(result), cancellationToken);
        }

        return result;
    }
}
