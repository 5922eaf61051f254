using Dapper;
using DualLock.MySql;

namespace DualLock.IntegrationTests.MySql;

/// <summary>A fence table of the test's own (unique name), created up front and dropped at the end.</summary>
public sealed class FenceTable : IAsyncDisposable
{
    private FenceTable(string name) => Name = name;

    public string Name { get; }

    public static async Task<FenceTable> CreateAsync()
    {
        var table = new FenceTable($"duallock_fence_{Guid.NewGuid():N}"[..30]);
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync(new MySqlTransactionOptions { FenceTable = table.Name }.FenceTableDdl());
        return table;
    }

    public async Task<long?> TokenAsync(LockKey key)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long?>($"SELECT token FROM `{Name}` WHERE lock_key = @key", new { key = key.ToString() });
    }

    /// <summary>
    /// Whether a session is inside its fence upsert on this table. A test calls it while another
    /// transaction holds the key's fence row, so a session there is waiting for that row lock.
    /// (The processlist, because MariaDB 10.11 showed no rows in INNODB_LOCK_WAITS for this wait.)
    /// </summary>
    public async Task<bool> HasLockWaitAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE @pattern",
            new { pattern = $"INSERT INTO `{Name}`%" }) > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{Name}`");
    }
}
