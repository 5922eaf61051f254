using System.Diagnostics.Metrics;
using Dapper;
using DualLock.MySql;
using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.MySql;

/// <summary>The dual composition registered in one DI call, and its fallback when Redis goes away mid-run.</summary>
public sealed class MySqlDualTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RedisLockOptions RedisOptions => new()
    {
        KeyPrefix = "duallock-test",
        Lease = TimeSpan.FromSeconds(2),
        OperationTimeout = TimeSpan.FromMilliseconds(250),
    };

    [Fact]
    public async Task Dual_RedisStoppedMidRun_KeepsServingWithRowLockAndLosesNothing()
    {
        await using var redisServer = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{redisServer.Endpoint},abortConnect=false,connectTimeout=500,syncTimeout=500,connectRetry=1");
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var fallbacks = 0L;
        using var listener = FallbackListener(() => Interlocked.Increment(ref fallbacks));

        await using var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(redis)
            .AddDualLock(b => b.AddDualPipeline(
                "dual",
                distributed: (p, sp) => p.AddRedisLock(sp.GetRequiredService<IConnectionMultiplexer>(), RedisOptions),
                database: (p, _) => p.AddMySqlTransaction(Servers.MySql).AddMySqlRowLock(table.Name, "id")))
            .BuildServiceProvider();
        var pipeline = services.GetRequiredKeyedService<LockPipeline>("dual");
        Assert.Equal(["redis", "mysql-transaction", "mysql-row-lock"], pipeline.StageNames);

        var key = new LockKey("counter", "hot");
        long committed = 0, viaRedis = 0, viaFallback = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var skipped = await pipeline.ExecuteAsync(key, async (ctx, ct) =>
                    {
                        var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
                        var value = await tx.Connection.ExecuteScalarAsync<long>($"SELECT value FROM `{table.Name}` WHERE id = 'hot'", transaction: tx.Transaction);
                        await Task.Delay(2, CancellationToken.None);
                        await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = @v WHERE id = 'hot'", new { v = value + 1 }, tx.Transaction);
                        return ctx.GetFeature<SkippedStages>() is not null;
                    }, TimeSpan.FromSeconds(10), CancellationToken.None);
                    Interlocked.Increment(ref committed);
                    Interlocked.Increment(ref skipped ? ref viaFallback : ref viaRedis);
                }
                catch (LockLeaseLostException)
                {
                    // Redis went away while this holder ran: its transaction was rolled back, nothing committed.
                }
            }
        })).ToArray();

        await Task.Delay(1000, Ct);
        var beforeOutage = Interlocked.Read(ref viaRedis);
        await redisServer.StopAsync();
        await Task.Delay(2000, Ct);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.True(beforeOutage > 0, "Some executions should have gone through Redis before the outage.");
        Assert.True(viaFallback > 0, "Executions during the outage should have continued with the row lock alone.");
        Assert.True(Interlocked.Read(ref fallbacks) >= viaFallback);
        Assert.Equal(committed, await table.ValueAsync("hot"));
    }

    /// <summary>
    /// Key sets in opposite orders while Redis is stopped under them: the fallback goes on with both rows (one
    /// ORDER BY statement), nothing deadlocks, times out or is lost. (That a set gives back the key it had taken
    /// when a later one fails is proven by the unit tests and the contract's timeout case: with Redis gone, a key
    /// left held there blocks nobody, so this test passes without that release too.)
    /// </summary>
    [Fact]
    public async Task Dual_KeySetsInOppositeOrders_RedisStoppedMidRun_NoDeadlockNoTimeoutLosesNothing()
    {
        await using var redisServer = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{redisServer.Endpoint},abortConnect=false,connectTimeout=500,syncTimeout=500,connectRetry=1");
        await using var table = await MySqlTestTable.CreateAsync("a", "b");
        var pipeline = new LockPipelineBuilder { Name = "dual-set", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddRedisLock(redis, RedisOptions)
            .ContinueIfUnavailable()
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlRowLock(table.Name, "id")
            .Build();
        LockKey a = new("counter", "a"), b = new("counter", "b");
        long committed = 0, viaRedis = 0, viaFallback = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            LockKey[] set = i % 2 == 0 ? [a, b] : [b, a];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var skipped = await pipeline.ExecuteAsync(set, async (ctx, ct) =>
                    {
                        // A racy read-modify-write of both rows: only holding both keys keeps the two counts equal to the commits.
                        var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
                        var values = (await tx.Connection.QueryAsync<long>($"SELECT value FROM `{table.Name}` WHERE id IN ('a', 'b') ORDER BY id", transaction: tx.Transaction)).ToArray();
                        await Task.Delay(2, CancellationToken.None);
                        await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = @v WHERE id = 'a'", new { v = values[0] + 1 }, tx.Transaction);
                        await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = @v WHERE id = 'b'", new { v = values[1] + 1 }, tx.Transaction);
                        return ctx.GetFeature<SkippedStages>() is not null;
                    }, cancellationToken: CancellationToken.None);
                    Interlocked.Increment(ref committed);
                    Interlocked.Increment(ref skipped ? ref viaFallback : ref viaRedis);
                }
                catch (LockLeaseLostException)
                {
                    // Redis went away while this holder ran: its transaction was rolled back, nothing committed.
                }
            }
        })).ToArray();

        await Task.Delay(1000, Ct);
        var beforeOutage = Interlocked.Read(ref viaRedis);
        await redisServer.StopAsync();
        await Task.Delay(2000, Ct);
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), Ct); // a LockTimeoutException (a deadlock waited out) fails here

        Assert.True(beforeOutage > 0, "Some sets should have gone through Redis before the outage.");
        Assert.True(viaFallback > 0, "Sets during the outage should have continued with the row locks alone.");
        Assert.Equal(committed, await table.ValueAsync("a"));
        Assert.Equal(committed, await table.ValueAsync("b"));
    }

    [Fact]
    public async Task DistributedOnly_RedisUnavailable_FailsFastWithUnavailable()
    {
        await using var redisServer = await PrivateRedisServer.StartAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{redisServer.Endpoint},abortConnect=false,connectTimeout=500,syncTimeout=500,connectRetry=1");
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var pipeline = new LockPipelineBuilder { Name = "distributed-only", WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddRedisLock(redis, RedisOptions)
            .AddMySqlTransaction(Servers.MySql)
            .Build();
        await redisServer.StopAsync();
        var ran = false;

        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("counter", "hot"), (_, _) => { ran = true; return ValueTask.CompletedTask; }, cancellationToken: Ct));

        Assert.Equal("redis", ex.Stage);
        Assert.False(ran);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "Unavailable must not wait out the 10 s wait timeout.");
    }

    private static MeterListener FallbackListener(Action onFallback)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "DualLock" && instrument.Name == "duallock.fallback")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => onFallback());
        listener.Start();
        return listener;
    }
}
