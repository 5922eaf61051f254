using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using UserPointApi.Data;

namespace UserPointApi.Health;

/// <summary>Ready when the database (MySQL or PostgreSQL, <c>Database</c>) answers <c>SELECT 1</c>.</summary>
public sealed class MySqlHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", ex);
        }
    }
}
