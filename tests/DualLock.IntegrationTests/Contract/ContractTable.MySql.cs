using Dapper;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The contract table in MariaDB, written through <see cref="MySqlTransactionFeature"/>.</summary>
public sealed class MySqlContractTable(string name) : ContractTable(name)
{
    public override async Task InsertAsync(IReadOnlyList<LockKey> keys)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        foreach (var chunk in keys.Chunk(500))
        {
            var values = string.Join(',', chunk.Select((_, i) => $"(@id{i})"));
            var parameters = new DynamicParameters();
            for (var i = 0; i < chunk.Length; i++)
            {
                parameters.Add($"id{i}", chunk[i].Id);
            }

            await connection.ExecuteAsync($"INSERT INTO `{Name}` (id) VALUES {values}", parameters);
        }
    }

    public override async ValueTask WriteMarkAsync(LockContext context, string note)
    {
        ArgumentNullException.ThrowIfNull(context);

        // One mark per key: a multi-key execution marks each key of its set (in the set's canonical order).
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        foreach (var key in context.Keys)
        {
            await tx.Connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO `{Name}` (id, value, note) VALUES (@id, 1, @note) ON DUPLICATE KEY UPDATE value = value + 1, note = @note",
                new { id = key.Id, note },
                tx.Transaction));
        }
    }

    public override async Task<string?> CommittedNoteAsync(LockKey key)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<string?>($"SELECT note FROM `{Name}` WHERE id = @id", new { id = key.Id });
    }

    public override async Task<long> CommittedMarksAsync(LockKey? key)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return key is null
            ? await connection.ExecuteScalarAsync<long>($"SELECT COALESCE(SUM(value), 0) FROM `{Name}`")
            : await connection.ExecuteScalarAsync<long>($"SELECT COALESCE(SUM(value), 0) FROM `{Name}` WHERE id = @id", new { id = key.Value.Id });
    }

    public override async Task FindLockedRowsAsync(string table, List<string> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        await using var connection = await Servers.OpenMySqlAsync();
        await using var tx = await connection.BeginTransactionAsync();
        try
        {
            // Any row still locked by a transaction the stages left open makes NOWAIT fail at once.
            await connection.ExecuteAsync($"SELECT * FROM `{table}` FOR UPDATE NOWAIT", transaction: tx);
        }
        catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.LockWaitTimeout or (MySqlErrorCode)3572)
        {
            found.Add($"rows of {table} still locked ({ex.Message})");
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
        {
            // The fence table is created on the first fenced acquire.
        }

        await tx.RollbackAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{Name}`, `{FenceTable}`");
    }

    protected override async Task CreateAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync(
            $"CREATE TABLE `{Name}` (id VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0, version BIGINT NOT NULL DEFAULT 0, note VARCHAR(64) NULL) ENGINE=InnoDB");
    }
}
