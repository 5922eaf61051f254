using Npgsql;

namespace UserPointApi.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL database <c>duallock_api_&lt;guid&gt;</c> on the server <c>ConnectionStrings__Postgres</c> names, and the
/// settings that run the API on it (<c>Database=postgres</c>); dropped on dispose. A missing server skips locally, fails under CI.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private PostgresTestDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>Gets the settings that point an API process at this database.</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Database"] = "postgres",
        ["ConnectionStrings__Postgres"] = ConnectionString,
    };

    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var name = $"duallock_api_{Guid.NewGuid():N}";
        var admin = Servers.Postgres;
        await using (var connection = await Servers.OpenPostgresAsync(admin))
        {
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new PostgresTestDatabase(admin, name, new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString);
    }

    /// <summary>Runs a scalar query in the test database (to prove what is stored, not what the API says).</summary>
    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();

        // WITH (FORCE): an API process killed a moment ago may still hold a connection the server has not reaped.
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
