using Dapper;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>A throwaway counter table per test (unique lower-case name), so tests run in parallel with everyone else's.</summary>
public sealed class PostgresTestTable : IAsyncDisposable
{
    private PostgresTestTable(string name) => Name = name;

    /// <summary>Gets the table's name: lower case, so quoted and unquoted spellings are the same table.</summary>
    public string Name { get; }

    public static async Task<PostgresTestTable> CreateAsync(params string[] ids)
    {
        var table = new PostgresTestTable($"duallock_t_{Guid.NewGuid():N}"[..30]);
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync(
            $"CREATE TABLE \"{table.Name}\" (id text PRIMARY KEY, value bigint NOT NULL DEFAULT 0, version bigint NOT NULL DEFAULT 0, note text NULL)");
        foreach (var id in ids)
        {
            await table.InsertAsync(connection, id);
        }

        return table;
    }

    public Task InsertAsync(NpgsqlConnection connection, string id, NpgsqlTransaction? transaction = null)
        => connection.ExecuteAsync($"INSERT INTO \"{Name}\" (id) VALUES (@id)", new { id }, transaction);

    public async Task<long> ValueAsync(string id)
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT value FROM \"{Name}\" WHERE id = @id", new { id });
    }

    public async Task<string?> NoteAsync(string id)
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return await connection.ExecuteScalarAsync<string?>($"SELECT note FROM \"{Name}\" WHERE id = @id", new { id });
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS \"{Name}\"");
    }
}
