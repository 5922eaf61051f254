using MySqlConnector;

namespace UserPointApi.Data;

/// <summary>The MySQL connection string (from <c>ConnectionStrings:MySql</c>) with the settings the sample relies on.</summary>
public sealed class Database
{
    public Database(IConfiguration configuration)
    {
        var configured = configuration.GetConnectionString("MySql");
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException("ConnectionStrings:MySql is not set (environment: ConnectionStrings__MySql; scripts/services.sh env prints it).");
        }

        var builder = new MySqlConnectionStringBuilder(configured)
        {
            // Timestamps are written as UTC_TIMESTAMP(6) and read back as UTC.
            DateTimeKind = MySqlDateTimeKind.Utc,

            // Ids are CHAR(36) text; without this MySqlConnector would read them as Guid.
            GuidFormat = MySqlGuidFormat.None,
        };
        ConnectionString = builder.ConnectionString;
    }

    public string ConnectionString { get; }

    public async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(ConnectionString);
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
}
