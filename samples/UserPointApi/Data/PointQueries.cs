using Dapper;
using UserPointApi.Api;
using UserPointApi.Points;

namespace UserPointApi.Data;

/// <summary>Creating users and every read; reads take no lock.</summary>
public sealed class PointQueries(Database database)
{
    /// <summary>Creates a user and its point row (amount 0) in one transaction.</summary>
    public async Task<UserDto> CreateUserAsync(CancellationToken cancellationToken)
    {
        var userId = Ids.New();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO users (id, created_at, updated_at) VALUES (@userId, {database.Sql.Now}, {database.Sql.Now});
            INSERT INTO user_points (id, user_id, amount, version, created_at, updated_at)
            SELECT @pointId, id, 0, 0, created_at, updated_at FROM users WHERE id = @userId;
            """,
            new { userId, pointId = Ids.New() }, transaction, cancellationToken: cancellationToken));
        var user = await connection.QuerySingleAsync<UserRow>(new CommandDefinition(
            "SELECT id, created_at, updated_at FROM users WHERE id = @userId", new { userId }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new UserDto(user.Id, user.CreatedAt, user.UpdatedAt);
    }

    public async Task<UserDto?> GetUserAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var user = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT id, created_at, updated_at FROM users WHERE id = @userId", new { userId }, cancellationToken: cancellationToken));
        return user is null ? null : new UserDto(user.Id, user.CreatedAt, user.UpdatedAt);
    }

    public async Task<UserPointDto?> GetPointAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            "SELECT id, user_id, amount, version, created_at, updated_at FROM user_points WHERE user_id = @userId", new { userId }, cancellationToken: cancellationToken));
        return point is null ? null : new UserPointDto(point.Id, point.UserId, point.Amount, point.CreatedAt, point.UpdatedAt);
    }

    /// <summary>One page of the ledger, newest first; <see langword="null"/> for an unknown user.</summary>
    public async Task<HistoryPageDto?> GetHistoryAsync(string userId, int page, int size, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT COUNT(*) FROM user_points WHERE user_id = @userId;
            SELECT COUNT(*) FROM point_ledger WHERE user_id = @userId;
            SELECT id, user_id, type, amount, balance_after, created_at, refund_of, refunded_by
            FROM point_ledger WHERE user_id = @userId ORDER BY seq DESC LIMIT @size OFFSET @offset;
            """,
            new { userId, size, offset = (long)(page - 1) * size }, cancellationToken: cancellationToken));
        var exists = await results.ReadSingleAsync<long>() > 0;
        var total = await results.ReadSingleAsync<long>();
        var rows = await results.ReadAsync<LedgerRow>();
        if (!exists)
        {
            return null;
        }

        var items = rows.Select(r => new LedgerEntryDto(r.Id, r.Type, r.Amount, r.BalanceAfter, r.CreatedAt, r.RefundOf, r.RefundedBy)).ToList();
        return new HistoryPageDto(items, page, size, total);
    }

    /// <summary>The balance and the ledger read by one statement, so from one consistent snapshot.</summary>
    public async Task<AuditDto?> GetAuditAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<AuditRow>(new CommandDefinition(
            $"""
            SELECT p.amount AS balance,
                   CAST(COALESCE((SELECT SUM(l.amount) FROM point_ledger l WHERE l.user_id = p.user_id), 0) AS {database.Sql.BigIntCast}) AS ledger_sum,
                   (SELECT COUNT(*) FROM point_ledger l WHERE l.user_id = p.user_id) AS entry_count
            FROM user_points p WHERE p.user_id = @userId
            """,
            new { userId }, cancellationToken: cancellationToken));
        return row is null ? null : new AuditDto(row.Balance, row.LedgerSum, row.EntryCount, row.Balance == row.LedgerSum);
    }
}
