using System.Data.Common;
using DualLock;
using Dapper;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>
/// The statements of one transfer, inside a transaction someone else opened: both balances, both ledger entries
/// (<c>transfer-out</c> on the sender, <c>transfer-in</c> on the receiver) and the idempotency completion commit or
/// roll back together, so each user's ledger still sums to its balance. Rows are always updated lower user id
/// first, the order every lock stage and the row lock use, so two opposite transfers cannot deadlock in the database.
/// </summary>
public sealed class TransferMutations(IOptions<PointOptions> pointOptions, IdempotencyStore idempotency, TimeProvider timeProvider, Database database)
{
    private const string PointColumns = "id, user_id, amount, version, created_at, updated_at";
    private readonly PointOptions _limits = pointOptions.Value;

    public async Task<TransferDto> RunAsync(DbConnection connection, DbTransaction transaction, TransferCommand command, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        var ids = new EntryIds(Ids.New(), Ids.New());
        var result = mode == WriteMode.Atomic
            ? await ApplyAtomicAsync(connection, transaction, command, ids, raceWindow, cancellationToken)
            : await ApplyReadModifyWriteAsync(connection, transaction, command, ids, mode, raceWindow, cancellationToken);

        if (command.Claim is { } claim)
        {
            // Committed with the transfer: a replay can never return a response whose transfer was rolled back.
            await idempotency.CompleteAsync(connection, transaction, claim, StatusCodes.Status200OK, ApiJson.Success(result), cancellationToken);
        }

        return result;
    }

    private async Task<TransferDto> ApplyReadModifyWriteAsync(DbConnection connection, DbTransaction transaction, TransferCommand command, EntryIds ids, WriteMode mode, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        // Both rows in one plain read (under the locks: the latest committed balances); the server's clock is the transfer's timestamp.
        var rows = (await connection.QueryAsync<PointRow>(new CommandDefinition(
            $"SELECT {PointColumns}, {database.Sql.Now} AS read_at FROM user_points WHERE user_id IN (@from, @to)",
            new { from = command.FromUserId, to = command.ToUserId }, transaction, cancellationToken: cancellationToken))).ToList();
        var (sender, receiver) = Find(rows, command);
        var fromBalance = sender.Amount - command.Amount;
        var toBalance = receiver.Amount + command.Amount;
        Check(sender.Amount, receiver.Amount, command.Amount);
        if (raceWindow > TimeSpan.Zero)
        {
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        // Lower id first; both updates and both ledger rows in one round trip: 1 + 1 + 2 rows when both updates matched.
        // A compare-and-set that matched nothing throws, and the rollback takes everything with it.
        var (lower, higher) = command.Ordered;
        var version = mode == WriteMode.CompareAndSet ? " AND version = @{0}Version" : "";
        var update = "UPDATE user_points SET amount = @{0}Balance, version = version + 1, updated_at = @now WHERE user_id = @{0}" + version + ";\n";
        var affected = await connection.ExecuteAsync(new CommandDefinition(
            string.Format(System.Globalization.CultureInfo.InvariantCulture, update, lower == command.FromUserId ? "from" : "to")
            + string.Format(System.Globalization.CultureInfo.InvariantCulture, update, higher == command.FromUserId ? "from" : "to")
            + """
              INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at)
              VALUES (@outId, @from, @outType, @outAmount, @fromBalance, @now), (@inId, @to, @inType, @amount, @toBalance, @now)
              """,
            new
            {
                from = command.FromUserId,
                to = command.ToUserId,
                fromBalance,
                toBalance,
                fromVersion = sender.Version,
                toVersion = receiver.Version,
                now = sender.ReadAt,
                ids.OutId,
                ids.InId,
                outType = TransferCommand.OutType,
                inType = TransferCommand.InType,
                outAmount = -command.Amount,
                amount = command.Amount,
            },
            transaction,
            cancellationToken: cancellationToken));
        if (affected != 4)
        {
            throw new OptimisticConflictException("The point row changed since it was read.");
        }

        var now = DateTime.SpecifyKind(sender.ReadAt, DateTimeKind.Utc);
        return new TransferDto(
            command.Amount,
            new PointWriteDto(sender.Id, sender.UserId, fromBalance, sender.CreatedAt, now, ids.OutId),
            new PointWriteDto(receiver.Id, receiver.UserId, toBalance, receiver.CreatedAt, now, ids.InId));
    }

    private async Task<TransferDto> ApplyAtomicAsync(DbConnection connection, DbTransaction transaction, TransferCommand command, EntryIds ids, TimeSpan raceWindow, CancellationToken cancellationToken)
    {
        // Two conditional relative updates, lower id first, each followed by its row count; then both rows and both
        // ledger entries copied from them, in one round trip. When an update matched nothing the work throws and the
        // rollback removes the other update and the entries.
        var (lower, higher) = command.Ordered;
        // PostgreSQL has no ROW_COUNT(): the update's RETURNING rows are counted instead, in the same statement.
        var update = database.Sql.IsPostgres
            ? """
              WITH u AS (
                UPDATE user_points SET amount = amount + @{0}Delta, version = version + 1, updated_at = statement_timestamp()
                WHERE user_id = @{0} AND amount + @{0}Delta BETWEEN 0 AND @max RETURNING 1)
              SELECT COUNT(*) FROM u;

              """
            : """
              UPDATE user_points SET amount = amount + @{0}Delta, version = version + 1, updated_at = UTC_TIMESTAMP(6)
              WHERE user_id = @{0} AND amount + @{0}Delta BETWEEN 0 AND @max;
              SELECT ROW_COUNT();

              """;
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, update, lower == command.FromUserId ? "from" : "to")
            + string.Format(System.Globalization.CultureInfo.InvariantCulture, update, higher == command.FromUserId ? "from" : "to")
            + $"""
               SELECT {PointColumns} FROM user_points WHERE user_id IN (@from, @to);
               INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at)
               SELECT @outId, user_id, @outType, @fromDelta, amount, updated_at FROM user_points WHERE user_id = @from
               UNION ALL
               SELECT @inId, user_id, @inType, @toDelta, amount, updated_at FROM user_points WHERE user_id = @to;
               """;
        long fromUpdated, toUpdated;
        List<PointRow> rows;
        using (var results = await connection.QueryMultipleAsync(new CommandDefinition(
            sql,
            new
            {
                from = command.FromUserId,
                to = command.ToUserId,
                fromDelta = -command.Amount,
                toDelta = command.Amount,
                max = _limits.MaxBalance,
                ids.OutId,
                ids.InId,
                outType = TransferCommand.OutType,
                inType = TransferCommand.InType,
            },
            transaction,
            cancellationToken: cancellationToken)))
        {
            var first = await results.ReadSingleAsync<long>();
            var second = await results.ReadSingleAsync<long>();
            (fromUpdated, toUpdated) = lower == command.FromUserId ? (first, second) : (second, first);
            rows = [.. await results.ReadAsync<PointRow>()];
        }

        var (sender, receiver) = Find(rows, command);
        if (fromUpdated == 0 || toUpdated == 0)
        {
            // The row of an update that matched nothing is unchanged: its balance is the one the rule refused.
            Check(
                fromUpdated == 0 ? sender.Amount : sender.Amount + command.Amount,
                toUpdated == 0 ? receiver.Amount : receiver.Amount - command.Amount,
                command.Amount);
            throw new InvalidOperationException("A conditional transfer update matched no row although the limits hold.");
        }

        if (raceWindow > TimeSpan.Zero)
        {
            // Same delay as the other strategies, here while both rows are locked by the updates.
            await Task.Delay(raceWindow, timeProvider, cancellationToken);
        }

        return new TransferDto(
            command.Amount,
            new PointWriteDto(sender.Id, sender.UserId, sender.Amount, sender.CreatedAt, sender.UpdatedAt, ids.OutId),
            new PointWriteDto(receiver.Id, receiver.UserId, receiver.Amount, receiver.CreatedAt, receiver.UpdatedAt, ids.InId));
    }

    /// <summary>Picks the sender's and the receiver's rows; a missing one is a 404 naming which.</summary>
    private static (PointRow Sender, PointRow Receiver) Find(List<PointRow> rows, TransferCommand command)
    {
        var sender = rows.Find(r => string.Equals(r.UserId, command.FromUserId, StringComparison.OrdinalIgnoreCase));
        var receiver = rows.Find(r => string.Equals(r.UserId, command.ToUserId, StringComparison.OrdinalIgnoreCase));
        return (sender ?? throw SenderNotFound(), receiver ?? throw ReceiverNotFound());
    }

    /// <summary>The overdraft rule on the sender, then the maximum on the receiver.</summary>
    private void Check(long senderBalance, long receiverBalance, long amount)
    {
        if (senderBalance - amount < 0)
        {
            throw ApiException.Conflict(ErrorCodes.InsufficientBalance, $"The sender's balance is {senderBalance}; cannot transfer {amount}.");
        }

        if (receiverBalance + amount > _limits.MaxBalance)
        {
            throw ApiException.Conflict(ErrorCodes.AmountOverflow, $"The receiver's balance would be {receiverBalance + amount}; the maximum is {_limits.MaxBalance}.");
        }
    }

    internal static ApiException SenderNotFound() => new(StatusCodes.Status404NotFound, ErrorCodes.UserPointNotFound, "No such user: the sender (fromUserId) does not exist.");

    internal static ApiException ReceiverNotFound() => new(StatusCodes.Status404NotFound, ErrorCodes.ReceiverNotFound, "No such user: the receiver (toUserId) does not exist.");

    private sealed record EntryIds(string OutId, string InId);
}
