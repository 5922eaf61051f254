using MySqlConnector;

namespace UserPointApi.Tests.Infrastructure;

/// <summary>A throwaway database <c>duallock_api_&lt;guid&gt;</c>, so parallel test runs never share rows; dropped on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private TestDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var name = $"duallock_api_{Guid.NewGuid():N}";
        var admin = new MySqlConnectionStringBuilder(Servers.MySql) { Database = "" }.ConnectionString;
        await using (var connection = await Servers.OpenMySqlAsync(admin))
        {
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new TestDatabase(admin, name, new MySqlConnectionStringBuilder(Servers.MySql) { Database = name }.ConnectionString);
    }

    /// <summary>Runs a scalar query in the test database (to prove what is stored, not what the API says).</summary>
    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        await using var connection = new MySqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
        await command.ExecuteNonQueryAsync();
    }
}
