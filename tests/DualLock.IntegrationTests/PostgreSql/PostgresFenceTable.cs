using Dapper;
using DualLock.PostgreSql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>A fence table of the test's own (unique lower-case name), created with the stage's own DDL and dropped at the end.</summary>
public sealed class PostgresFenceTable : IAsyncDisposable
{
    private PostgresFenceTable(string name) => Name = name;

    public string Name { get; }

    public static async Task<PostgresFenceTable> CreateAsync()
    {
        var table = new PostgresFenceTable($"duallock_fence_{Guid.NewGuid():N}"[..30]);
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync(new PostgresTransactionOptions { FenceTable = table.Name }.FenceTableDdl());
        return table;
    }

    public async Task<long?> TokenAsync(LockKey key)
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return await connection.ExecuteScalarAsync<long?>($"SELECT token FROM \"{Name}\" WHERE lock_key = @key", new { key = key.ToString() });
    }

    /// <summary>
    /// Whether a session is blocked on a lock while running its fence upsert on this table: the test calls it while
    /// another transaction holds the key's fence row, so such a session waits for that row.
    /// </summary>
    public async Task<bool> HasLockWaitAsync()
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE @pattern",
            new { pattern = $"%INSERT INTO \"{Name}\"%" }) > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS \"{Name}\"");
    }
}
