using Dapper;
using DualLock.IntegrationTests.Redis;
using DualLock.MySql;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// What the caller is told once the work has run, on the real servers: Redis refusing the release after
/// the MySQL transaction committed is not "nothing was changed", and a Redis lock lost while the work ran
/// (its key deleted) fails the call and rolls the transaction back even when the work ignores its token.
/// </summary>
public sealed class OutcomeAfterWorkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RedisServerException NoReplicas() => new("NOREPLICAS Not enough good replicas to write.");

    [Fact]
    public async Task ExecuteAsync_RedisRefusesTheReleaseAfterCommit_CallerGetsItsResultAndTheWriteIsKept()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), FaultInjectingRedis.Once(RedisLockScripts.Release, NoReplicas));
        var pipeline = new LockPipelineBuilder { Name = "outcome-after-commit", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(redis, new RedisLockOptions { Lease = TimeSpan.FromSeconds(3) })
            .AddMySqlTransaction(Servers.MySql)
            .Build();

        var result = await pipeline.ExecuteAsync(NewKey(), async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE `{table.Name}` SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
            return "charged";
        }, cancellationToken: Ct);

        Assert.Equal("charged", result);
        Assert.Equal(5, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_RedisKeyDeletedWhileWorkIgnoresItsToken_FailsAndRollsBack()

    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var shared = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = new LockPipelineBuilder { Name = "outcome-lease-lost", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(shared, new RedisLockOptions { Lease = TimeSpan.FromSeconds(3), RenewalInterval = TimeSpan.FromMilliseconds(100) })
            .AddMySqlTransaction(Servers.MySql)
            .Build();

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(key, async (ctx, _) =>
        {
            var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction);

            // Redis loses the key (a restart without persistence, an eviction): the next renewal finds it gone.
            await shared.GetDatabase().KeyDeleteAsync(LockName(key));
            var noticed = await EventuallyAsync(() => Task.FromResult(ctx.LeaseLost.IsCancellationRequested), TimeSpan.FromSeconds(5));
            Assert.True(noticed, "The renewal did not notice the deleted key.");
            return "work that never looks at its token";
        }, cancellationToken: Ct));

        Assert.Equal("redis", ex.Stage);
        Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, await table.ValueAsync("a"));
    }

    [Fact]
    public async Task ExecuteAsync_RedisOnlyKeyDeletedWhileWorkIgnoresItsToken_FailsInsteadOfReportingSuccess()
    {
        // No transaction to refuse the commit: before, the call returned the work's result as if the lock had held throughout.
        var shared = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = new LockPipelineBuilder { Name = "outcome-lease-lost-redis-only", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(shared, new RedisLockOptions { Lease = TimeSpan.FromSeconds(3), RenewalInterval = TimeSpan.FromMilliseconds(100) })
            .Build();

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.TryExecuteAsync(key, async (ctx, _) =>
        {
            await shared.GetDatabase().KeyDeleteAsync(LockName(key));
            Assert.True(await EventuallyAsync(() => Task.FromResult(ctx.LeaseLost.IsCancellationRequested), TimeSpan.FromSeconds(5)), "The renewal did not notice the deleted key.");
            return 42;
        }, cancellationToken: Ct));

        Assert.Equal("redis", ex.Stage);
        Assert.Contains("no transaction", ex.Message, StringComparison.Ordinal);
    }
}
