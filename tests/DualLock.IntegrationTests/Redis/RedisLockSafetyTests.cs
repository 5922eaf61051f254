using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

public sealed class RedisLockSafetyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_Uncontended_HoldsLockWithTokenAndLeaseThenDeletesIt()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromSeconds(3) });

        var (value, ttl, fence) = await pipeline.ExecuteAsync(key, async (ctx, _) =>
        {
            var db = redis.GetDatabase();
            return ((string?)await db.StringGetAsync(LockName(key)), await db.KeyTimeToLiveAsync(LockName(key)), ctx.FencingToken);
        }, cancellationToken: Ct);

        Assert.False(string.IsNullOrEmpty(value));
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        Assert.True(fence > 0);
        Assert.False(await redis.GetDatabase().KeyExistsAsync(LockName(key)));
    }

    [Fact]
    public async Task FencingToken_SuccessiveHolders_StrictlyIncreases()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var first = Pipeline(redis);
        var second = Pipeline(redis); // another stage: like another process
        var tokens = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            var pipeline = i % 2 == 0 ? first : second;
            tokens.Add(await pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct));
        }

        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task Scripts_NonHolderToken_CannotReleaseOrExtend()
    {
        var redis = await Servers.SharedRedisAsync();
        var db = redis.GetDatabase();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromSeconds(3) });

        await pipeline.ExecuteAsync(key, async (_, _) =>
        {
            var released = (long)await db.ScriptEvaluateAsync(RedisLockScripts.Release, [LockName(key)], ["not-the-token", "chan"]);
            var extended = (long)await db.ScriptEvaluateAsync(RedisLockScripts.Extend, [LockName(key)], ["not-the-token", 60_000]);
            Assert.Equal(0, released);
            Assert.Equal(0, extended);
            Assert.True(await db.KeyExistsAsync(LockName(key)));
            Assert.True(await db.KeyTimeToLiveAsync(LockName(key)) <= TimeSpan.FromSeconds(3));
        }, cancellationToken: Ct);
    }

    [Fact]
    public async Task ReleaseScript_SecondReleaseAfterAnotherHolderAcquired_IsNoOp()
    {
        var redis = await Servers.SharedRedisAsync();
        var db = redis.GetDatabase();
        var key = NewKey();
        var pipeline = Pipeline(redis);

        var token = await pipeline.ExecuteAsync(key, async (_, _) => (string)(await db.StringGetAsync(LockName(key)))!, cancellationToken: Ct);
        await pipeline.ExecuteAsync(key, async (_, _) =>
        {
            // The first holder's release, sent again (a retry, a delayed duplicate): it must not free the new holder's lock.
            Assert.Equal(0, (long)await db.ScriptEvaluateAsync(RedisLockScripts.Release, [LockName(key)], [token, "chan"]));
            Assert.True(await db.KeyExistsAsync(LockName(key)));
        }, cancellationToken: Ct);
    }

    [Fact]
    public async Task LeaseLost_KeyDeletedUnderHolder_TokenFiresWithinOneRenewalPeriod()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromMilliseconds(900), RenewalInterval = TimeSpan.FromMilliseconds(300), OperationTimeout = TimeSpan.FromMilliseconds(300) });
        var clock = new Stopwatch();

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            await redis.GetDatabase().KeyDeleteAsync(LockName(key));
            clock.Start();
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
        }, cancellationToken: Ct));

        Assert.Equal("redis", ex.Stage);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300 + 400), $"lease loss noticed after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task LeaseLost_KeyTakenByAnotherHolder_ReleaseLeavesTheirLock()
    {
        var redis = await Servers.SharedRedisAsync();
        var db = redis.GetDatabase();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromMilliseconds(600), RenewalInterval = TimeSpan.FromMilliseconds(200), OperationTimeout = TimeSpan.FromMilliseconds(250) });

        await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            // As if the lease had expired during a pause and someone else took the lock.
            await db.StringSetAsync(LockName(key), "someone-else", TimeSpan.FromSeconds(5));
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
        }, cancellationToken: Ct));

        Assert.Equal("someone-else", (string?)await db.StringGetAsync(LockName(key)));
    }

    [Fact]
    public async Task Renewal_WorkLongerThanSeveralLeases_KeepsTheLock()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromMilliseconds(400), RenewalInterval = TimeSpan.FromMilliseconds(100), OperationTimeout = TimeSpan.FromMilliseconds(150) });

        var (lost, token, stillOurs) = await pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            var db = redis.GetDatabase();
            var held = (string?)await db.StringGetAsync(LockName(key));
            await Task.Delay(TimeSpan.FromMilliseconds(1500), CancellationToken.None); // five leases
            return (ct.IsCancellationRequested, held, (string?)await db.StringGetAsync(LockName(key)));
        }, cancellationToken: Ct);

        Assert.False(lost);
        Assert.Equal(token, stillOurs);
    }

    [Fact]
    public async Task Renewal_AfterRelease_StopsExtending()
    {
        var redis = await Servers.SharedRedisAsync();
        var db = redis.GetDatabase();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions { Lease = TimeSpan.FromMilliseconds(400), RenewalInterval = TimeSpan.FromMilliseconds(100), OperationTimeout = TimeSpan.FromMilliseconds(150) });

        var token = await pipeline.ExecuteAsync(key, async (_, _) => (string)(await db.StringGetAsync(LockName(key)))!, cancellationToken: Ct);

        // Put the same token back: a watchdog still running would keep extending it.
        await db.StringSetAsync(LockName(key), token, TimeSpan.FromMilliseconds(250));
        await Task.Delay(TimeSpan.FromMilliseconds(700), Ct);
        Assert.False(await db.KeyExistsAsync(LockName(key)));
    }

    [Fact]
    public async Task MaxHoldTime_Exceeded_LeaseLostFiresAndRenewalStops()
    {
        var redis = await Servers.SharedRedisAsync();
        var key = NewKey();
        var pipeline = Pipeline(redis, new RedisLockOptions
        {
            Lease = TimeSpan.FromMilliseconds(400),
            RenewalInterval = TimeSpan.FromMilliseconds(100),
            MaxHoldTime = TimeSpan.FromMilliseconds(500),
            OperationTimeout = TimeSpan.FromMilliseconds(150),
        });
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await pipeline.ExecuteAsync(key, (_, ct) => new ValueTask(Task.Delay(TimeSpan.FromSeconds(10), ct)), cancellationToken: Ct));

        Assert.InRange(clock.ElapsedMilliseconds, 450, 2000);
    }

    [Fact]
    public async Task Acquire_ClosedPort_FailsUnavailableWithinOperationTimeout()
    {
        await using var redis = await ConnectAsync("127.0.0.1:1");
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) }, wait: TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () =>
            await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal("redis", ex.Stage);
    }
}
