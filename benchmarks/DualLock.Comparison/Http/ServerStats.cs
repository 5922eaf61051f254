using System.Diagnostics;
using System.Globalization;
using MySqlConnector;

namespace DualLock.Comparison.Http;

/// <summary>
/// Statement counts per digest of one schema (MariaDB performance_schema) and Redis command counts
/// (INFO commandstats), read before and after a target's runs. Exact only on servers nobody else
/// uses: the runner reads them with --server-stats only.
/// </summary>
internal static class ServerStats
{
    public static async Task<Dictionary<string, long>> StatementsAsync(string connectionString, string schema, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT COALESCE(DIGEST_TEXT, '?'), COUNT_STAR FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = @schema",
            connection);
        command.Parameters.AddWithValue("@schema", schema);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var text = reader.GetString(0);
            counts[text.Length > 90 ? text[..90] + "..." : text] = counts.GetValueOrDefault(text) + reader.GetInt64(1);
        }

        return counts;
    }

    public static async Task<Dictionary<string, long>> RedisCommandsAsync(string redisConnectionString, CancellationToken cancellationToken)
    {
        var endpoint = redisConnectionString.Split(',')[0].Split(':');
        var info = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-h", endpoint[0], "-p", endpoint.Length > 1 ? endpoint[1] : "6379", "INFO", "commandstats" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            // cmdstat_evalsha:calls=12,usec=...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && line.IndexOf(":calls=", StringComparison.Ordinal) is var at and > 0)
            {
                var calls = line[(at + 7)..].Split(',')[0];
                counts[line["cmdstat_".Length..at]] = long.Parse(calls, CultureInfo.InvariantCulture);
            }
        }

        return counts;
    }

    /// <summary>after - before per key, divided by <paramref name="per"/>, largest first; keys that did not move are left out.</summary>
    public static Dictionary<string, double> PerOperation(Dictionary<string, long> before, Dictionary<string, long> after, long per)
        => after.Select(a => (a.Key, Delta: a.Value - before.GetValueOrDefault(a.Key)))
            .Where(d => d.Delta > 0 && per > 0)
            .OrderByDescending(d => d.Delta)
            .ToDictionary(d => d.Key, d => Math.Round((double)d.Delta / per, 3), StringComparer.Ordinal);
}
