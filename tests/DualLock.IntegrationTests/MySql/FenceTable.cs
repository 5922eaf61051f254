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

    /// <summary>Whether a transaction is waiting in the server for a row lock of this table.</summary>
    public async Task<bool> HasLockWaitAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS w JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id WHERE l.lock_table LIKE @pattern",
            new { pattern = $"%{Name}%" }) > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{Name}`");
    }
}
