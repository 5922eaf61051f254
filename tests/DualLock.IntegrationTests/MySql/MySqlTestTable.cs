using Dapper;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>A throwaway counter table per test (unique name), so tests run in parallel with everyone else's.</summary>
public sealed class MySqlTestTable : IAsyncDisposable
{
    private MySqlTestTable(string name) => Name = name;

    public string Name { get; }

    public static async Task<MySqlTestTable> CreateAsync(params string[] ids)
    {
        var table = new MySqlTestTable($"duallock_t_{Guid.NewGuid():N}"[..30]);
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync(
            $"CREATE TABLE `{table.Name}` (id VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0, version BIGINT NOT NULL DEFAULT 0, note VARCHAR(64) NULL) ENGINE=InnoDB");
        foreach (var id in ids)
        {
            await table.InsertAsync(connection, id);
        }

        return table;
    }

    public Task InsertAsync(MySqlConnection connection, string id, MySqlTransaction? transaction = null)
        => connection.ExecuteAsync($"INSERT INTO `{Name}` (id) VALUES (@id)", new { id }, transaction);

    public async Task<long> ValueAsync(string id)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT value FROM `{Name}` WHERE id = @id", new { id });
    }

    public async Task<string?> NoteAsync(string id)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<string?>($"SELECT note FROM `{Name}` WHERE id = @id", new { id });
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{Name}`");
    }
}
