using Dapper;
using Microsoft.Extensions.Options;
using MySqlConnector;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>
/// The statements of one write, run inside a transaction someone else opened (a DualLock
/// transaction stage, or <see cref="PointService"/> for strategies without one): the balance
/// change, its ledger entry and the idempotency completion commit or roll back together.
/// </summary>
public sealed class PointMutations(IOptions<PointOptions> pointOptions, IdempotencyStore idempotency, TimeProvider timeProvider)
{
    private readonly PointOptions _limits = pointOptions.Value;

    public async Task<PointWriteDto> RunAsync(MySqlConnection connection, MySqlTransaction transaction, PointCommand command, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
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

        var point = mode == WriteMode.Atomic
            ? await ApplyAtomicAsync(connection, transaction, command.UserId, delta, raceWindow, cancellationToken)
            : await ApplyReadModifyWriteAsync(connection, transaction, command.UserId, delta, mode, raceWindow, cancellationToken);

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at, refund_of)
            VALUES (@entryId, @userId, @type, @delta, @balance, @updatedAt, @refundOf)
            """,
            new { entryId, userId = command.UserId, type = command.Operation, delta, balance = point.Amount, point.UpdatedAt, refundOf },
            transaction, cancellationToken: cancellationToken));

        var result = new PointWriteDto(point.Id, point.UserId, point.Amount, point.CreatedAt, point.UpdatedAt, entryId);
        if (command.Claim is { } claim)
        {
            // Committed with the write: a replay can never return a response whose write was rolled back.
            await idempotency.CompleteAsync(connection, transaction, claim, StatusCodes.Status200OK, ApiJson.Success(result), cancellationToken);
        }

        return result;
    }

    private async Task<PointRow> ApplyReadModifyWriteAsync(MySqlConnection connection, MySqlTransaction transaction, string userId, long delta, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        // A plain read: under a lock it is the latest committed balance; without one it is the race the negative controls show.
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            "SELECT id, user_id, amount, version, created_at, updated_at FROM user_points WHERE user_id = @userId",
            new { userId }, transaction, cancellationToken: cancellationToken))
            ?? throw NotFound();
        var balance = point.Amount + delta;
        Check(balance, delta);
        if (raceWindow > TimeSpan.Zero)
        {
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        var now = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT UTC_TIMESTAMP(6)", transaction: transaction, cancellationToken: cancellationToken));
        var sql = mode == WriteMode.CompareAndSet
            ? "UPDATE user_points SET amount = @balance, version = version + 1, updated_at = @now WHERE user_id = @userId AND version = @version"
            : "UPDATE user_points SET amount = @balance, version = version + 1, updated_at = @now WHERE user_id = @userId";
        var updated = await connection.ExecuteAsync(new CommandDefinition(sql, new { balance, now, userId, point.Version }, transaction, cancellationToken: cancellationToken));
        if (updated == 0)
        {
            throw new VersionConflictException();
        }

        point.Amount = balance;
        point.UpdatedAt = DateTime.SpecifyKind(now, DateTimeKind.Utc);
        return point;
    }

    private async Task<PointRow> ApplyAtomicAsync(MySqlConnection connection, MySqlTransaction transaction, string userId, long delta, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE user_points SET amount = amount + @delta, version = version + 1, updated_at = UTC_TIMESTAMP(6)
            WHERE user_id = @userId AND amount + @delta BETWEEN 0 AND @max
            """,
            new { delta, userId, max = _limits.MaxBalance }, transaction, cancellationToken: cancellationToken));
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            "SELECT id, user_id, amount, version, created_at, updated_at FROM user_points WHERE user_id = @userId",
            new { userId }, transaction, cancellationToken: cancellationToken))
            ?? throw NotFound();
        if (updated == 0)
        {
            Check(point.Amount + delta, delta);
            throw new InvalidOperationException("The conditional update matched no row although the limits hold.");
        }

        if (raceWindow > TimeSpan.Zero)
        {
            // Same delay as the other strategies, here while the row is locked by the update.
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        return point;
    }

    /// <summary>Marks a use as refunded by <paramref name="entryId"/> (at most once) and returns the amount to give back.</summary>
    private static async Task<long> ClaimRefundAsync(MySqlConnection connection, MySqlTransaction transaction, string userId, string transactionId, string entryId, CancellationToken cancellationToken)
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

    private void Check(long balance, long delta)
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

    private static ApiException NotFound() => new(StatusCodes.Status404NotFound, ErrorCodes.UserPointNotFound, "No such user.");
}
