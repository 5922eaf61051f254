using MySqlConnector;
using Npgsql;

namespace DualLock.Comparison;

/// <summary>A throwaway database per strategy run (MySQL, or PostgreSQL under <c>--database postgres</c>), so every run starts from an empty schema.</summary>
internal sealed class FreshDatabase : IAsyncDisposable
{
    public const string MySql = "mysql";
    public const string Postgres = "postgres";

    private readonly string _adminConnectionString;

    private FreshDatabase(string kind, string adminConnectionString, string name, string connectionString)
    {
        Kind = kind;
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>Gets <see cref="MySql"/> or <see cref="Postgres"/>.</summary>
    public string Kind { get; }

    public string Name { get; }

    public string ConnectionString { get; }

    public static Task<FreshDatabase> CreateAsync(string baseConnectionString, string strategy, CancellationToken cancellationToken)
        => CreateAsync(MySql, baseConnectionString, strategy, cancellationToken);

    public static async Task<FreshDatabase> CreateAsync(string kind, string baseConnectionString, string strategy, CancellationToken cancellationToken)
    {
        var name = $"duallock_cmp_{strategy}_{Guid.NewGuid():N}"[..40];
        if (kind == Postgres)
        {
            // The server's own maintenance database is the admin connection: the base one may be dropped by a parallel run.
            var admin = new NpgsqlConnectionStringBuilder(baseConnectionString) { Database = "postgres" }.ConnectionString;
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            return new FreshDatabase(kind, admin, name, new NpgsqlConnectionStringBuilder(baseConnectionString) { Database = name }.ConnectionString);
        }

        var builder = new MySqlConnectionStringBuilder(baseConnectionString);
        var mySqlAdmin = new MySqlConnectionStringBuilder(baseConnectionString) { Database = "" }.ConnectionString;
        await using (var connection = new MySqlConnection(mySqlAdmin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}`", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        builder.Database = name;
        return new FreshDatabase(kind, mySqlAdmin, name, builder.ConnectionString);
    }

    /// <summary>Points the sample's settings at this database (<c>Database=postgres</c> and its connection string for PostgreSQL).</summary>
    public void AddSettings(IDictionary<string, string> env)
    {
        if (Kind == Postgres)
        {
            env["Database"] = "postgres";
            env["ConnectionStrings__Postgres"] = ConnectionString;
        }
        else
        {
            env["ConnectionStrings__MySql"] = ConnectionString;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Kind == Postgres)
        {
            NpgsqlConnection.ClearAllPools();
            await using var postgres = new NpgsqlConnection(_adminConnectionString);
            await postgres.OpenAsync();

            // FORCE: the killed instances' server sessions may not have ended yet.
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", postgres);
            await drop.ExecuteNonQueryAsync();
            return;
        }

        MySqlConnection.ClearAllPools();
        await using var connection = new MySqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
        await command.ExecuteNonQueryAsync();
    }
}
