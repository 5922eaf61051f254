using MySqlConnector;
using Npgsql;
using StackExchange.Redis;

namespace DualLock.IntegrationTests;

/// <summary>Proves the servers that scripts/services.sh starts answer, so CI shows they start on a fresh machine.</summary>
public sealed class ServersTests
{
    [Fact]
    public async Task MariaDb_Started_AnswersQueriesAndIsDurable()
    {
        await using var connection = await Servers.OpenMySqlAsync(TestContext.Current.CancellationToken);
        await using var command = new MySqlCommand("SELECT VERSION(), @@innodb_flush_log_at_trx_commit", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Contains("MariaDB", reader.GetString(0), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, reader.GetInt32(1));
    }

    [Fact]
    public async Task Postgres_Started_AnswersQueriesAndIsDurable()
    {
        await using var connection = await Servers.OpenPostgresAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT version(), current_setting('fsync'), current_setting('synchronous_commit')", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("PostgreSQL", reader.GetString(0), StringComparison.Ordinal);
        Assert.Equal("on", reader.GetString(1));
        Assert.Equal("on", reader.GetString(2));
    }

    [Fact]
    public async Task Redis_Started_AnswersPingAndSetGet()
    {
        var redis = await Servers.SharedRedisAsync();
        var db = redis.GetDatabase();
        var key = $"test:servers:{Guid.NewGuid():N}";
        Assert.True(await db.StringSetAsync(key, "v", TimeSpan.FromSeconds(10)));
        Assert.Equal("v", (string?)await db.StringGetAsync(key));
        Assert.True((await db.PingAsync()) < TimeSpan.FromSeconds(5));
    }
}
