using MySqlConnector;

namespace DualLock.Comparison;

/// <summary>A throwaway database per strategy run, so every run starts from an empty schema.</summary>
internal sealed class FreshDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private FreshDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<FreshDatabase> CreateAsync(string baseConnectionString, string strategy, CancellationToken cancellationToken)
    {
        var name = $"duallock_cmp_{strategy}_{Guid.NewGuid():N}"[..40];
        var builder = new MySqlConnectionStringBuilder(baseConnectionString);
        var admin = new MySqlConnectionStringBuilder(baseConnectionString) { Database = "" }.ConnectionString;
        await using (var connection = new MySqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        builder.Database = name;
        return new FreshDatabase(admin, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        MySqlConnection.ClearAllPools();
        await using var connection = new MySqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
        await command.ExecuteNonQueryAsync();
    }
}
