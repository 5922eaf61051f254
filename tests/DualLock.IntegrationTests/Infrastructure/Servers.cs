using MySqlConnector;
using Npgsql;
using StackExchange.Redis;

namespace DualLock.IntegrationTests;

/// <summary>
/// Connection strings of the real servers that <c>scripts/services.sh up</c> starts, read from the
/// environment it prints (<c>eval "$(scripts/services.sh env)"</c>). A missing server skips the test
/// locally and fails it under CI, where a skip would hide that nothing was tested.
/// </summary>
public static class Servers
{
    private static readonly Lazy<Task<ConnectionMultiplexer?>> SharedRedis = new(ConnectAsync);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string MySql => Require("ConnectionStrings__MySql");

    /// <summary>The PostgreSQL connection string (<c>services.sh up</c> starts PostgreSQL with the others).</summary>
    public static string Postgres => Require("ConnectionStrings__Postgres");

    public static string Redis => Require("ConnectionStrings__Redis");

    /// <summary>Comma-separated host:port of three independent Redis masters (<c>services.sh up redlock</c>).</summary>
    public static string RedlockEndpoints => Require("DUALLOCK_REDLOCK_ENDPOINTS");

    /// <summary>Comma-separated host:port of the Redis Cluster masters (<c>services.sh up cluster</c>).</summary>
    public static string RedisCluster => Require("DUALLOCK_REDIS_CLUSTER");

    /// <summary>A multiplexer shared by the tests that need no private connection.</summary>
    public static async Task<ConnectionMultiplexer> SharedRedisAsync()
        => await SharedRedis.Value ?? throw Missing("ConnectionStrings__Redis", "Redis did not answer");

    public static async Task<MySqlConnection> OpenMySqlAsync(CancellationToken cancellationToken = default)
    {
        var connection = new MySqlConnection(MySql);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (MySqlException ex)
        {
            await connection.DisposeAsync();
            throw Missing("ConnectionStrings__MySql", ex.Message);
        }
    }

    public static async Task<NpgsqlConnection> OpenPostgresAsync(CancellationToken cancellationToken = default)
    {
        var connection = new NpgsqlConnection(Postgres);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (NpgsqlException ex)
        {
            await connection.DisposeAsync();
            throw Missing("ConnectionStrings__Postgres", ex.Message);
        }
    }

    private static async Task<ConnectionMultiplexer?> ConnectAsync()
    {
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(Redis);
        }
        catch (RedisConnectionException)
        {
            return null;
        }
    }

    private static string Require(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Missing(variable, "the variable is not set");
        }

        return value;
    }

    private static InvalidOperationException Missing(string variable, string why)
    {
        var message = $"Integration server not available ({variable}: {why}). Run: scripts/services.sh up all && eval \"$(scripts/services.sh env)\"";
        if (IsCi)
        {
            // Under CI a missing server is a failure, never a skip: it would pass while testing nothing.
            return new InvalidOperationException(message);
        }

        Assert.Skip(message);
        return new InvalidOperationException(message); // not reached: Assert.Skip throws
    }
}
