using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>
/// What Redis losing a gate's data (a restart without persistence, a failover, a key deleted or evicted) does
/// to a holder whose work ignores its token: another caller gets in beside it until the holder's next renewal
/// finds its entry gone and marks its lease lost. The deletion is a side-connection DEL of the test's own keys.
/// </summary>
public sealed class RedisGateDataLossTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>Short leases: renewal every 400 ms, each call bounded by 200 ms, so a loss is noticed within about 600 ms.</summary>
    private static readonly TimeSpan Renewal = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan CallBound = TimeSpan.FromMilliseconds(200);

    private readonly string _prefix = "dlgl" + Guid.NewGuid().ToString("N")[..10];
    private ConnectionMultiplexer? _redis;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public async ValueTask InitializeAsync() => _redis = await Servers.SharedRedisAsync();

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await foreach (var key in _redis.GetServers()[0].KeysAsync(pattern: _prefix + ":*"))
            {
                await _redis.GetDatabase().KeyDeleteAsync(key);
            }
        }
    }

    [Fact]
    public async Task ExecuteAsync_SemaphoreEntryDeletedWhileAHolds_ASecondHolderGetsInUntilTheRenewalMarksTheLeaseLost()
    {
        var key = new LockKey("sem", Guid.NewGuid().ToString("N")[..16]);
        var holder = Semaphore();
        var (context, release, run) = Hold((k, w) => holder.ExecuteAsync(k, w, Bound, Ct), key);
        var lease = (await context.WaitAsync(Bound, Ct)).LeaseLost;
        Assert.False((await Semaphore().TryExecuteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, "The one permit was not held: the case proves nothing.");

        Assert.True(await Redis.GetDatabase().KeyDeleteAsync(Name(key, "sem")), "Nothing was held in Redis.");
        var clock = Stopwatch.StartNew();

        // The data loss admits a second holder of the one permit: Redis no longer knows the first.
        Assert.True((await Semaphore().TryExecuteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, "Nobody got the permit Redis forgot.");
        await AssertLostWithinAsync(clock, lease);
        release();

        // The work ignored its token and returned normally; the call still must not report success.
        await Assert.ThrowsAsync<LockLeaseLostException>(() => run.WaitAsync(Bound, Ct));
    }

    [Fact]
    public async Task ExecuteReadAsync_ReadersDeletedWhileAReaderHolds_AWriterGetsInUntilTheRenewalMarksTheReaderLost()
    {
        var key = new LockKey("rw", Guid.NewGuid().ToString("N")[..16]);
        var readers = ReaderWriter();
        var (context, release, run) = Hold((k, w) => readers.ExecuteReadAsync(k, w, Bound, Ct), key);
        var lease = (await context.WaitAsync(Bound, Ct)).LeaseLost;
        Assert.False((await ReaderWriter().TryExecuteWriteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, "A writer got in beside the reader: the case proves nothing.");

        Assert.True(await Redis.GetDatabase().KeyDeleteAsync(Name(key, "rw:readers")), "Nothing was held in Redis.");
        var clock = Stopwatch.StartNew();

        Assert.True((await ReaderWriter().TryExecuteWriteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, "No writer got in after Redis forgot the reader.");
        await AssertLostWithinAsync(clock, lease);
        release();

        // The work ignored its token and returned normally; the call still must not report success.
        await Assert.ThrowsAsync<LockLeaseLostException>(() => run.WaitAsync(Bound, Ct));
    }

    /// <summary>The renewal finds the entry gone at its next run: within one renewal interval and one call bound, plus slack for a loaded machine.</summary>
    private static async Task AssertLostWithinAsync(Stopwatch clock, CancellationToken lease)
    {
        var within = Renewal + CallBound + TimeSpan.FromSeconds(2);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lease.Register(() => lost.TrySetResult());
        var signalled = await Task.WhenAny(lost.Task, Task.Delay(within, Ct)) == lost.Task;
        Assert.True(signalled, $"The lease was not marked lost within {within.TotalMilliseconds:0} ms of the deletion.");
        TestContext.Current.TestOutputHelper?.WriteLine($"lease lost {clock.ElapsedMilliseconds} ms after the deletion");
    }

    /// <summary>Holds the key with work that ignores its token (as work that never checks it does) until released.</summary>
    private static (Task<LockContext> Context, Action Release, Task Run) Hold(Func<LockKey, Func<LockContext, CancellationToken, ValueTask<bool>>, ValueTask<bool>> execute, LockKey key)
    {
        var entered = new TaskCompletionSource<LockContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = execute(key, async (ctx, _) =>
        {
            entered.TrySetResult(ctx);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None); // ignores its token on purpose
            return true;
        }).AsTask();

        return (entered.Task, () => release.TrySetResult(), run);
    }

    private static ValueTask<bool> Ok(LockContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    private T Options<T>()
        where T : RedisLeaseOptions, new() => new()
    {
        KeyPrefix = _prefix,
        Lease = TimeSpan.FromSeconds(2),
        RenewalInterval = Renewal,
        OperationTimeout = CallBound,
    };

    /// <summary>A one-permit semaphore of its own "process".</summary>
    private LockPipeline Semaphore() => new LockPipelineBuilder { Name = "sem-loss" }.AddRedisSemaphore(Redis, 1, Options<RedisSemaphoreOptions>()).Build();

    private ReaderWriterLockStrategy ReaderWriter() => RedisReaderWriterLock.Create(Redis, new ReaderWriterLockOptions { Name = "rw-loss" }, Options<RedisReaderWriterLockOptions>());

    private RedisKey Name(LockKey key, string suffix) => $"{_prefix}:{{{key}}}:{suffix}";
}
