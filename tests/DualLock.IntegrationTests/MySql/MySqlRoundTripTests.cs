using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using MySqlConnector;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Round trips of one uncontended execution per stage, counted on the wire (MySQL) and by the
/// server (Redis: script calls; the commands inside the scripts are listed too), after a warm-up so the pool is filled and the fence table exists. The work itself
/// sends nothing, so every command counted is the stages'.
/// </summary>
public sealed class MySqlRoundTripTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("transaction")]
    [InlineData("transaction+row-lock")]
    [InlineData("transaction+row-lock-nowait")]
    [InlineData("named-lock+transaction")]
    [InlineData("redis+fenced-transaction")]
    [InlineData("redis+transaction+row-lock")]
    public async Task ExecuteAsync_Uncontended_UsesTheDocumentedRoundTrips(string composition)
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var upstream = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(upstream.Server, (int)upstream.Port);
        var connectionString = new MySqlConnectionStringBuilder(Servers.MySql)
        {
            Server = "127.0.0.1",
            Port = (uint)proxy.Port,
            SslMode = MySqlSslMode.None,
            ApplicationName = $"duallock-roundtrips-{Guid.NewGuid():N}",
        }.ConnectionString;
        await using var redisServer = composition.StartsWith("redis", StringComparison.Ordinal) ? await PrivateRedisServer.StartAsync() : null;
        await using var redis = redisServer is null ? null : await ConnectionMultiplexer.ConnectAsync($"{redisServer.Endpoint},abortConnect=false,allowAdmin=true");
        var fenceTable = $"duallock_fence_{Guid.NewGuid():N}"[..30];

        var builder = new LockPipelineBuilder { Name = composition };
        switch (composition)
        {
            case "transaction":
                builder.AddMySqlTransaction(connectionString);
                break;
            case "transaction+row-lock":
                builder.AddMySqlTransaction(connectionString).AddMySqlRowLock(table.Name, "id");
                break;
            case "transaction+row-lock-nowait":
                builder.AddMySqlTransaction(connectionString).AddMySqlRowLock(table.Name, "id", o => o.WaitMode = MySqlRowLockWaitMode.NoWaitRetry);
                break;
            case "named-lock+transaction":
                builder.AddMySqlNamedLock(connectionString).AddMySqlTransaction(connectionString);
                break;
            case "redis+fenced-transaction":
                builder.AddRedisLock(redis!, new RedisLockOptions { KeyPrefix = "duallock-test" })
                    .AddMySqlTransaction(connectionString, o => { o.EnforceFencing = true; o.FenceTable = fenceTable; });
                break;
            case "redis+transaction+row-lock":
                builder.AddRedisLock(redis!, new RedisLockOptions { KeyPrefix = "duallock-test" })
                    .AddMySqlTransaction(connectionString).AddMySqlRowLock(table.Name, "id");
                break;
        }

        var pipeline = builder.Build();
        var key = new LockKey("counter", "a");
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
            }

            await Task.Delay(200, Ct);
            proxy.TakeCommands();
            var redisBefore = redisServer is null ? [] : await RedisCommandsAsync(redis!, redisServer);

            await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
            await Task.Delay(200, Ct);

            var commands = proxy.TakeCommands();
            var redisAfter = redisServer is null ? [] : await RedisCommandsAsync(redis!, redisServer);
            var redisDelta = redisAfter.Select(p => (p.Key, Calls: p.Value - redisBefore.GetValueOrDefault(p.Key))).Where(p => p.Calls > 0).ToList();
            // Commands run inside a script are counted too; the client's round trips are the script calls.
            var redisCommands = redisDelta.Where(p => p.Key is "evalsha" or "eval").Sum(p => p.Calls);
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{composition}: MySQL {commands.Count} round trips, Redis {redisCommands} round trips (server commands: {string.Join(", ", redisDelta.Select(p => $"{p.Key}={p.Calls}"))})");
            foreach (var command in commands)
            {
                TestContext.Current.TestOutputHelper?.WriteLine("  " + command);
            }

            Assert.Equal(Expected(composition), (commands.Count, redisCommands));
        }
        finally
        {
            await using var connection = await Servers.OpenMySqlAsync();
            await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{fenceTable}`");
        }
    }

    /// <summary>(MySQL round trips, Redis commands) per uncontended execution: what the closing note reports.</summary>
    private static (int MySql, long Redis) Expected(string composition) => composition switch
    {
        // reset on reuse from the pool + BEGIN (isolation batched) + COMMIT
        "transaction" => (3, 0),
        // + one locking read (SET SESSION innodb_lock_wait_timeout batched into it)
        "transaction+row-lock" => (4, 0),
        "transaction+row-lock-nowait" => (4, 0),
        // a second connection: reset + GET_LOCK + RELEASE_LOCK, plus the transaction's 3, plus the
        // confirmation on the lock's session that the lock is still held, just before COMMIT
        "named-lock+transaction" => (7, 0),
        // + the fence upsert-and-read, batched into one round trip right after BEGIN
        "redis+fenced-transaction" => (4, 2),
        "redis+transaction+row-lock" => (4, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(composition)),
    };

    /// <summary>Calls per command from INFO commandstats, leaving out the client library's own housekeeping.</summary>
    private static async Task<Dictionary<string, long>> RedisCommandsAsync(ConnectionMultiplexer redis, PrivateRedisServer server)
    {
        string[] housekeeping = ["cmdstat_info", "cmdstat_ping", "cmdstat_echo", "cmdstat_client", "cmdstat_cluster", "cmdstat_config", "cmdstat_subscribe", "cmdstat_unsubscribe", "cmdstat_hello"];
        var info = await redis.GetServer(server.Endpoint).InfoAsync("commandstats");
        return info.SelectMany(g => g)
            .Where(p => !housekeeping.Contains(p.Key))
            .ToDictionary(
                p => p.Key["cmdstat_".Length..],
                p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
