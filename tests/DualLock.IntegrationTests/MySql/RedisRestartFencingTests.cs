using Dapper;
using DualLock.IntegrationTests.Redis;
using DualLock.MySql;
using DualLock.Redis;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Redis restarted empty (no persistence) while <c>duallock_fence</c> still holds the tokens issued
/// before: the next holder's token must be higher than those, or every fenced commit is refused
/// until the counter climbs back.
/// </summary>
public sealed class RedisRestartFencingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commit_AfterRedisRestartedEmpty_IsNotRefusedByTokensRecordedBefore()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        await using var redis = await PrivateRedisServer.StartAsync();
        var key = new LockKey("fenced", $"doc{Guid.NewGuid():N}");
        var fenceTable = $"duallock_fence_{Guid.NewGuid():N}"[..30];
        try
        {
            long before = 0;
            await using (var connection = await RedisTestKit.ConnectAsync(redis.Endpoint))
            {
                var pipeline = Pipeline(connection, table, fenceTable);
                for (var i = 0; i < 3; i++)
                {
                    before = Math.Max(before, await WriteAsync(pipeline, key, table, $"before{i}"));
                }
            }

            await redis.StopAsync();
            await redis.RestartAsync();
            await using var restarted = await RedisTestKit.ConnectAsync(redis.Endpoint);
            var outcome = await Record.ExceptionAsync(async () => await WriteAsync(Pipeline(restarted, table, fenceTable), key, table, "after"));

            Assert.Null(outcome);
            Assert.Equal("after", await table.NoteAsync("doc"));
            await using var db = await Servers.OpenMySqlAsync(Ct);
            var recorded = await db.ExecuteScalarAsync<long>($"SELECT token FROM `{fenceTable}` WHERE lock_key = @key", new { key = key.ToString() });
            Assert.True(recorded > before, $"recorded token {recorded}, before the restart {before}");
        }
        finally
        {
            await using var connection = await Servers.OpenMySqlAsync();
            await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{fenceTable}`");
        }
    }

    private static async Task<long> WriteAsync(LockPipeline pipeline, LockKey key, MySqlTestTable table, string note)
        => await pipeline.ExecuteAsync(key, async (ctx, _) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = @note WHERE id = 'doc'", new { note }, tx.Transaction);
            return ctx.FencingToken!.Value;
        }, cancellationToken: Ct);

    private static LockPipeline Pipeline(StackExchange.Redis.IConnectionMultiplexer redis, MySqlTestTable table, string fenceTable)
        => new LockPipelineBuilder { Name = $"restart-{table.Name}", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(redis, new RedisLockOptions { KeyPrefix = "duallock-test" })
            .AddMySqlTransaction(Servers.MySql, o =>
            {
                o.EnforceFencing = true;
                o.FenceTable = fenceTable;
            })
            .Build();
}
