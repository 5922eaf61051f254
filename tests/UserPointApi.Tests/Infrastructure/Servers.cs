using MySqlConnector;
using Npgsql;

namespace UserPointApi.Tests.Infrastructure;

/// <summary>
/// Connection strings of the real servers that <c>scripts/services.sh up</c> starts, read from the
/// environment it prints. A missing server skips the test locally and fails it under CI, where a
/// skip would hide that nothing was tested.
/// </summary>
public static class Servers
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string MySql => Require("ConnectionStrings__MySql");

    public static string Redis => Require("ConnectionStrings__Redis");

    public static string Postgres => Require("ConnectionStrings__Postgres");

    public static async Task<NpgsqlConnection> OpenPostgresAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch (NpgsqlException ex)
        {
            await connection.DisposeAsync();
            throw Missing("ConnectionStrings__Postgres", ex.Message);
        }
    }

    public static async Task<MySqlConnection> OpenMySqlAsync(string connectionString)
    {
        var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch (MySqlException ex)
        {
            await connection.DisposeAsync();
            throw Missing("ConnectionStrings__MySql", ex.Message);
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
            return new InvalidOperationException(message);
        }

        Assert.Skip(message);
        return new InvalidOperationException(message);
    }
}
