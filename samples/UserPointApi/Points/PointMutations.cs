using System.Data.Common;
using DualLock;
using Dapper;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>
/// The statements of one write, run inside a transaction someone else opened (a DualLock
/// transaction stage, or <see cref="PointService"/> for strategies without one): the balance
/// change, its ledger entry and the idempotency completion commit or roll back together.
/// </summary>
public sealed class PointMutations(IOptions<PointOptions> pointOptions, IdempotencyStore idempotency, TimeProvider timeProvider, Database database)
{
    private readonly PointOptions _limits = pointOptions.Value;

    public async Task<PointWriteDto> RunAsync(DbConnection connection, DbTransaction transaction, PointCommand command, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        var entryId = Ids.New();
        long delta;
        string? refundOf = null;
        switch (command.Operation)
        {
            case PointCommand.Charge:
                delta = command.Amount;
                break;
            case PointCommand.Use:
                delta = -command.Amount;
                break;
            default:
                refundOf = command.TransactionId!;
                delta = await ClaimRefundAsync(connection, transaction, command.UserId, refundOf, entryId, cancellationToken);
                break;
        }

        // The ledger entry goes in the same round trip as the balance change (its statements are batched with it).
        var ledger = new LedgerEntry(entryId, command.UserId, command.Operation, delta, refundOf);
        var point = mode == WriteMode.Atomic
            ? await ApplyAtomicAsync(connection, transaction, ledger, raceWindow, cancellationToken)
            : await ApplyReadModifyWriteAsync(connection, transaction, ledger, mode, raceWindow, cancellationToken);

        var result = new PointWriteDto(point.Id, point.UserId, point.Amount, point.CreatedAt, point.UpdatedAt, entryId);
        if (command.Claim is { } claim)
        {
            // Committed with the write: a replay can never return a response whose write was rolled back.
            await idempotency.CompleteAsync(connection, transaction, claim, StatusCodes.Status200OK, ApiJson.Success(result), cancellationToken);
        }

        return result;
    }

    private async Task<PointRow> ApplyReadModifyWriteAsync(DbConnection connection, DbTransaction transaction, LedgerEntry ledger, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        // A plain read: under a lock it is the latest committed balance; without one it is the race the negative controls show.
        // The server's clock comes with it (the write's timestamp), so the read is one round trip.
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            $"SELECT id, user_id, amount, version, created_at, updated_at, {database.Sql.Now} AS read_at FROM user_points WHERE user_id = @userId",
            new { ledger.UserId }, transaction, cancellationToken: cancellationToken))
            ?? throw NotFound();
        var balance = point.Amount + ledger.Delta;
        Check(balance, ledger.Delta);
        if (raceWindow > TimeSpan.Zero)
        {
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        // The update and the ledger entry in one round trip; the insert always adds one row, so 2 means the update matched.
        // A compare-and-set that matched nothing throws, and the rollback takes the ledger row with it.
        var update = mode == WriteMode.CompareAndSet
            ? "UPDATE user_points SET amount = @balance, version = version + 1, updated_at = @now WHERE user_id = @userId AND version = @version;"
            : "UPDATE user_points SET amount = @balance, version = version + 1, updated_at = @now WHERE user_id = @userId;";
        var affected = await connection.ExecuteAsync(new CommandDefinition(
            update + LedgerInsertValues,
            new { balance, now = point.ReadAt, ledger.UserId, point.Version, ledger.EntryId, type = ledger.Operation, ledger.Delta, ledger.RefundOf },
            transaction,
            cancellationToken: cancellationToken));
        if (affected != 2)
        {
            throw new OptimisticConflictException("The point row changed since it was read.");
        }

        point.Amount = balance;
        point.UpdatedAt = DateTime.SpecifyKind(point.ReadAt, DateTimeKind.Utc);
        return point;
    }

    private async Task<PointRow> ApplyAtomicAsync(DbConnection connection, DbTransaction transaction, LedgerEntry ledger, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        // One round trip: the conditional update, the row after it with the update's row count, and the ledger entry
        // copied from that row. When the update matched nothing the work throws and the rollback removes the entry.
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            database.Sql.IsPostgres ? PostgresAtomicUpdate : """
            UPDATE user_points SET amount = amount + @delta, version = version + 1, updated_at = UTC_TIMESTAMP(6)
            WHERE user_id = @userId AND amount + @delta BETWEEN 0 AND @max;
            SELECT id, user_id, amount, version, created_at, updated_at, ROW_COUNT() AS updated FROM user_points WHERE user_id = @userId;
            INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at, refund_of)
            SELECT @entryId, user_id, @type, @delta, amount, updated_at, @refundOf FROM user_points WHERE user_id = @userId;
            """,
            new { ledger.Delta, ledger.UserId, max = _limits.MaxBalance, ledger.EntryId, type = ledger.Operation, ledger.RefundOf },
            transaction,
            cancellationToken: cancellationToken))
            ?? throw NotFound();
        if (point.Updated == 0)
        {
            Check(point.Amount + ledger.Delta, ledger.Delta);
            throw new InvalidOperationException("The conditional update matched no row although the limits hold.");
        }

        if (raceWindow > TimeSpan.Zero)
        {
            // Same delay as the other strategies, here while the row is locked by the update.
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        return point;
    }

    // PostgreSQL has no ROW_COUNT(): the update returns its row (updated = 1), else the unchanged row is read (updated = 0),
    // both in the first statement; the ledger insert is a second statement, so it sees the updated row.
    private const string PostgresAtomicUpdate =
        """
        WITH u AS (
          UPDATE user_points SET amount = amount + @delta, version = version + 1, updated_at = statement_timestamp()
          WHERE user_id = @userId AND amount + @delta BETWEEN 0 AND @max
          RETURNING id, user_id, amount, version, created_at, updated_at)
        SELECT id, user_id, amount, version, created_at, updated_at, 1 AS updated FROM u
        UNION ALL
        SELECT id, user_id, amount, version, created_at, updated_at, 0 FROM user_points WHERE user_id = @userId AND NOT EXISTS (SELECT 1 FROM u);
        INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at, refund_of)
        SELECT @entryId, user_id, @type, @delta, amount, updated_at, @refundOf FROM user_points WHERE user_id = @userId;
        """;

    private const string LedgerInsertValues =
        """
        INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at, refund_of)
        VALUES (@entryId, @userId, @type, @delta, @balance, @now, @refundOf)
        """;

    /// <summary>Marks a use as refunded by <paramref name="entryId"/> (at most once) and returns the amount to give back.</summary>
    private static async Task<long> ClaimRefundAsync(DbConnection connection, DbTransaction transaction, string userId, string transactionId, string entryId, CancellationToken cancellationToken)
    {
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE point_ledger SET refunded_by = @entryId WHERE id = @transactionId AND user_id = @userId AND type = 'use' AND refunded_by IS NULL",
            new { entryId, transactionId, userId }, transaction, cancellationToken: cancellationToken));
        var entry = await connection.QuerySingleOrDefaultAsync<LedgerRow>(new CommandDefinition(
            "SELECT id, user_id, type, amount, refunded_by FROM point_ledger WHERE id = @transactionId AND user_id = @userId AND type = 'use'",
            new { transactionId, userId }, transaction, cancellationToken: cancellationToken));
        if (claimed == 1 && entry is not null)
        {
            return -entry.Amount;
        }

        if (entry is not null)
        {
            throw ApiException.Conflict(ErrorCodes.AlreadyRefunded, $"Transaction {transactionId} was already refunded.");
        }

        var userExists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM user_points WHERE user_id = @userId", new { userId }, transaction, cancellationToken: cancellationToken));
        throw userExists == 0
            ? NotFound()
            : ApiException.Conflict(ErrorCodes.TransactionNotFound, $"Transaction {transactionId} is not a use of this user.");
    }

    internal void Check(long balance, long delta)
    {
        if (balance < 0)
        {
            throw ApiException.Conflict(ErrorCodes.InsufficientBalance, $"The balance is {balance - delta}; cannot use {-delta}.");
        }

        if (balance > _limits.MaxBalance)
        {
            throw ApiException.Conflict(ErrorCodes.AmountOverflow, $"The balance would be {balance}; the maximum is {_limits.MaxBalance}.");
        }
    }

    internal static ApiException NotFound() => new(StatusCodes.Status404NotFound, ErrorCodes.UserPointNotFound, "No such user.");
}

/// <summary>The ledger entry of one write, inserted in the same round trip as the balance change.</summary>
internal sealed record LedgerEntry(string EntryId, string UserId, string Operation, long Delta, string? RefundOf);
