using System.Data.Common;
using MySqlConnector;
using Npgsql;

namespace UserPointApi.Data;

/// <summary>The database the sample runs on, chosen by the top-level <c>Database</c> setting (environment: <c>Database</c>).</summary>
public enum DatabaseKind
{
    /// <summary>MySQL or MariaDB through MySqlConnector, <c>ConnectionStrings:MySql</c> (the default).</summary>
    MySql,

    /// <summary>PostgreSQL through Npgsql, <c>ConnectionStrings:Postgres</c>.</summary>
    Postgres,
}

/// <summary>
/// The connection string of the configured database (<c>Database</c> = <c>mysql</c>, the default, or <c>postgres</c>)
/// with the settings the sample relies on, and the few SQL fragments that differ between the two (<see cref="Sql"/>).
/// </summary>
public sealed class Database
{
    public const string Setting = "Database";

    public Database(IConfiguration configuration)
    {
        Kind = KindOf(configuration);
        var name = Kind == DatabaseKind.Postgres ? "Postgres" : "MySql";
        var configured = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{name} is not set (environment: ConnectionStrings__{name}; scripts/services.sh env prints it). Database is '{Kind.ToString().ToLowerInvariant()}'.");
        }

        ConnectionString = Kind == DatabaseKind.Postgres
            ? new NpgsqlConnectionStringBuilder(configured).ConnectionString
            : new MySqlConnectionStringBuilder(configured)
            {
                // Timestamps are written as UTC_TIMESTAMP(6) and read back as UTC.
                DateTimeKind = MySqlDateTimeKind.Utc,

                // Ids are CHAR(36) text; without this MySqlConnector would read them as Guid.
                GuidFormat = MySqlGuidFormat.None,
            }.ConnectionString;
        Sql = Kind == DatabaseKind.Postgres ? SqlDialect.Postgres : SqlDialect.MySql;
    }

    public DatabaseKind Kind { get; }

    public string ConnectionString { get; }

    /// <summary>Gets the statement fragments of this database.</summary>
    public SqlDialect Sql { get; }

    /// <summary>Reads the <c>Database</c> setting; throws with the accepted values for anything else.</summary>
    public static DatabaseKind KindOf(IConfiguration configuration)
        => configuration[Setting]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "mysql" or "mariadb" => DatabaseKind.MySql,
            "postgres" or "postgresql" => DatabaseKind.Postgres,
            var other => throw new InvalidOperationException($"Database must be mysql or postgres (was '{other}')."),
        };

    /// <summary>Returns the problem of the <c>Database</c> setting, or nothing.</summary>
    public static IEnumerable<string> Problems(IConfiguration configuration)
    {
        string? problem = null;
        try
        {
            KindOf(configuration);
        }
        catch (InvalidOperationException ex)
        {
            problem = ex.Message;
        }

        return problem is null ? [] : [problem];
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = Kind == DatabaseKind.Postgres ? new NpgsqlConnection(ConnectionString) : new MySqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether the failure is a unique-key violation (MySQL 1062, PostgreSQL 23505).</summary>
    public static bool IsDuplicateKey(Exception ex) => ex switch
    {
        MySqlException mySql => mySql.ErrorCode == MySqlErrorCode.DuplicateKeyEntry,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>Whether the server could not be reached at all (nothing was sent).</summary>
    public static bool IsUnreachable(Exception ex) => ex switch
    {
        MySqlException mySql => mySql.ErrorCode == MySqlErrorCode.UnableToConnectToHost,
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown,
        NpgsqlException npgsql => npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
        _ => false,
    };
}
