using System.Globalization;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>The contract of a semaphore stage (in-process and Redis): at most N holders, bounded and cancellable waits, release on throw.</summary>
public abstract class SemaphoreContractTests : IAsyncLifetime
{
    protected const int Permits = 4;

    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>A pipeline of one "process" with a semaphore of <paramref name="permits"/> as its only stage.</summary>
    protected abstract LockPipeline Create(int permits = Permits);

    protected static LockKey NewKey() => new("sem", Guid.NewGuid().ToString("N")[..16]);

    [Fact]
    public async Task ExecuteAsync_SixteenCallers_NeverMoreThanThePermitsAndTheyAreUsed()
    {
        var first = Create();
        var second = Create();
        var key = NewKey();
        var inside = 0;
        var max = 0;
        var calls = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            for (var n = 0; n < 10; n++)
            {
                await (i % 2 == 0 ? first : second).ExecuteAsync(key, async (_, ct) =>
                {
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref max, now);
                    await Task.Delay(5, ct);
                    Interlocked.Decrement(ref inside);
                    return true;
                }, Bound, Ct);
            }
        })).ToArray();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.True(max <= Permits, $"{max} callers were inside a semaphore of {Permits}.");
        Assert.True(max > 1, "Callers never shared the semaphore: the test proved nothing about permits.");
    }

    [Fact]
    public async Task ExecuteAsync_AllPermitsHeld_TimesOutThenAdmitsOnRelease()
    {
        var pipeline = Create();
        var other = Create();
        var key = NewKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        var holders = Enumerable.Range(0, Permits).Select(_ => pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            Interlocked.Increment(ref entered);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
            return true;
        }, Bound, Ct).AsTask()).ToArray();
        Assert.True(await EventuallyAsync(() => Volatile.Read(ref entered) == Permits), "The permits were not all taken.");

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => other.ExecuteAsync(key, Ok, TimeSpan.FromMilliseconds(300), Ct).AsTask());
        Assert.DoesNotContain(key.Id, ex.Message, StringComparison.Ordinal);
        Assert.False((await other.TryExecuteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired);

        var waiting = other.TryExecuteAsync(key, Ok, Bound, Ct).AsTask();
        release.SetResult();
        Assert.True((await waiting.WaitAsync(Bound, Ct)).Acquired, "A released permit must admit the waiter.");
        await Task.WhenAll(holders);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileWaiting_ThrowsAndLeavesNothingHeld()
    {
        var pipeline = Create(permits: 1);
        var key = NewKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            entered.SetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
            return true;
        }, Bound, Ct).AsTask();
        await entered.Task.WaitAsync(Bound, Ct);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Create(permits: 1).ExecuteAsync(key, Ok, Bound, cancel.Token).AsTask());

        release.SetResult();
        await holder.WaitAsync(Bound, Ct);
        Assert.True((await Create(permits: 1).TryExecuteAsync(key, Ok, TimeSpan.FromSeconds(2), Ct)).Acquired, "The cancelled waiter left the permit taken.");
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrows_ReleasesThePermit()
    {
        var pipeline = Create(permits: 1);
        var key = NewKey();

        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.ExecuteAsync<bool>(key, (_, _) => throw new InvalidOperationException("boom"), Bound, Ct).AsTask());

        Assert.True((await Create(permits: 1).TryExecuteAsync(key, Ok, TimeSpan.FromSeconds(2), Ct)).Acquired, "A throwing holder kept its permit.");
    }

    protected static ValueTask<bool> Ok(LockContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    protected static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < until && !condition())
        {
            await Task.Delay(10, Ct);
        }

        return condition();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

/// <summary>The semaphore contract in one process; every <see cref="Create"/> shares one stage (one process).</summary>
public sealed class InProcessSemaphoreTests : SemaphoreContractTests
{
    private readonly Dictionary<int, LockPipeline> _pipelines = [];

    [Fact]
    public async Task ExecuteAsync_QueuedCallers_AreAdmittedInArrivalOrder()
    {
        var pipeline = Create(permits: 1);
        var key = NewKey();
        var order = new List<int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
            return true;
        }, Bound, Ct).AsTask();

        // Each call queues before it returns (the gate is entered synchronously), so the calls' order is the arrival order.
        var waiters = Enumerable.Range(0, 8).Select(i => pipeline.ExecuteAsync(key, (_, _) =>
        {
            lock (order)
            {
                order.Add(i);
            }

            return ValueTask.FromResult(true);
        }, Bound, Ct).AsTask()).ToArray();
        release.SetResult();
        await Task.WhenAll(waiters.Append(holder)).WaitAsync(Bound, Ct);

        Assert.Equal(Enumerable.Range(0, 8), order);
    }

    protected override LockPipeline Create(int permits = Permits)
    {
        if (!_pipelines.TryGetValue(permits, out var pipeline))
        {
            pipeline = new LockPipelineBuilder { Name = "sem-test" }.AddInProcessSemaphore(new SemaphoreOptions { Permits = permits }).Build();
            _pipelines[permits] = pipeline;
        }

        return pipeline;
    }
}

/// <summary>The semaphore contract on the real Redis (each <see cref="Create"/> is another "process"), plus leases and a second OS process.</summary>
public sealed class RedisSemaphoreTests : SemaphoreContractTests
{
    private readonly string _prefix = "dlsem" + Guid.NewGuid().ToString("N")[..10];
    private ConnectionMultiplexer? _redis;

    private ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public override async ValueTask InitializeAsync() => _redis = await Servers.SharedRedisAsync();

    public override async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await foreach (var key in _redis.GetServers()[0].KeysAsync(pattern: _prefix + ":*"))
            {
                await _redis.GetDatabase().KeyDeleteAsync(key);
            }
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task ExecuteAsync_HolderDiedHoldingTheOnlyPermit_PermitComesBackWhenItsLeaseEnds()
    {
        var key = NewKey();
        var time = await Redis.GetDatabase().ExecuteAsync("TIME");
        var parts = (RedisResult[])time!;
        var nowMs = (long.Parse((string)parts[0]!, CultureInfo.InvariantCulture) * 1000) + (long.Parse((string)parts[1]!, CultureInfo.InvariantCulture) / 1000);

        // A holder that died with 1.5 s left on its lease: nobody will release it.
        await Redis.GetDatabase().SortedSetAddAsync(SemName(key), "dead-holder", nowMs + 1500);
        var pipeline = Create(permits: 1);
        Assert.False((await pipeline.TryExecuteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, "The dead holder's permit was not counted.");

        Assert.True((await pipeline.TryExecuteAsync(key, Ok, TimeSpan.FromSeconds(8), Ct)).Acquired, "The dead holder's permit never came back.");
    }

    [Fact]
    public async Task ExecuteAsync_PermitTakenAway_WorkTokenFiresAndLeaseLostIsThrown()
    {
        var pipeline = new LockPipelineBuilder { Name = "sem-lease" }
            .AddRedisSemaphore(Redis, 2, new RedisSemaphoreOptions
            {
                KeyPrefix = _prefix,
                Lease = TimeSpan.FromSeconds(2),
                RenewalInterval = TimeSpan.FromMilliseconds(400),
                OperationTimeout = TimeSpan.FromMilliseconds(200),
            })
            .Build();
        var key = NewKey();
        var running = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            running.SetResult(ct);
            await Task.Delay(TimeSpan.FromSeconds(60), ct);
            return true;
        }, Bound, Ct).AsTask();
        var token = await running.Task.WaitAsync(Bound, Ct);

        Assert.True(await Redis.GetDatabase().KeyDeleteAsync(SemName(key)));

        await Assert.ThrowsAsync<LockLeaseLostException>(() => run.WaitAsync(Bound));
        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public async Task ExecuteAsync_TenThousandDistinctKeys_NoRedisKeyLeft()
    {
        var pipeline = Create();
        var keys = Enumerable.Range(0, 10_000).Select(_ => NewKey()).ToArray();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (key, ct) =>
            await pipeline.ExecuteAsync(key, Ok, Bound, ct));

        var left = 0;
        await foreach (var _ in Redis.GetServers()[0].KeysAsync(pattern: _prefix + ":*", pageSize: 1000))
        {
            left++;
        }

        Assert.Equal(0, left);
    }

    [Fact]
    public async Task ExecuteAsync_TwoOsProcesses_NeverMoreThanThePermits()
    {
        var key = NewKey();
        var startAt = DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await using var worker = WorkerProcess.Start("sem-contend", key.Resource, key.Id, _prefix, "16", "3000", Permits.ToString(CultureInfo.InvariantCulture), startAt);
        var pipeline = new LockPipelineBuilder { Name = "sem-local", WaitTimeout = TimeSpan.FromSeconds(30) }
            .AddRedisSemaphore(Redis, Permits, new RedisSemaphoreOptions { KeyPrefix = _prefix })
            .Build();
        var delay = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(startAt, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, Ct);
        }

        var local = await TestWorker.SemaphoreProbe.RunAsync(pipeline, Redis.GetDatabase(), key, 16, TimeSpan.FromSeconds(3), Permits, Ct);
        var remote = await worker.ResultAsync(TimeSpan.FromSeconds(60));

        TestContext.Current.TestOutputHelper?.WriteLine($"local {local}, remote {remote}");
        Assert.Equal(0, local.Violations + remote.GetProperty("violations").GetInt64());
        Assert.True(local.Acquired > 0 && remote.GetProperty("acquired").GetInt64() > 0, "Both processes must have held permits.");
        Assert.True(Math.Max(local.MaxInside, remote.GetProperty("maxInside").GetInt64()) > 1, "Permits were never shared.");
    }

    protected override LockPipeline Create(int permits = Permits)
        => new LockPipelineBuilder { Name = "sem-test" }.AddRedisSemaphore(Redis, permits, new RedisSemaphoreOptions { KeyPrefix = _prefix }).Build();

    private RedisKey SemName(LockKey key) => $"{_prefix}:{{{key}}}:sem";
}
