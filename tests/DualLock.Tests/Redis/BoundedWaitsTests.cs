using DualLock.Redis;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace DualLock.Tests.Redis;

/// <summary>The pooled bounded wait of the Redis lock's hot path, and the bounded key cache, without Redis.</summary>
public sealed class BoundedWaitsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task WaitAsync_CallAnswersInTime_ItsResultAndTheWaitIsReused()
    {
        var time = new FakeTimeProvider();
        var waits = new BoundedWaits(time);
        for (var i = 0; i < 3; i++)
        {
            var call = new TaskCompletionSource<RedisResult>();
            var wait = waits.WaitAsync(call.Task, Bound);
            Assert.False(wait.IsCompleted);
            time.Advance(Bound / 2);
            call.SetResult(RedisResult.Create((RedisValue)i));
            Assert.Equal(i, (int)await wait);
            Assert.Equal(1, waits.Pooled);

            // The timer of the used wait is disarmed: its deadline passing later times nothing out.
            time.Advance(Bound);
        }
    }

    [Fact]
    public async Task WaitAsync_CallFails_ItsOwnException()
    {
        var waits = new BoundedWaits(new FakeTimeProvider());
        var call = new TaskCompletionSource<RedisResult>();
        var wait = waits.WaitAsync(call.Task, Bound);
        call.SetException(new RedisConnectionException(ConnectionFailureType.SocketFailure, "refused"));

        await Assert.ThrowsAsync<RedisConnectionException>(async () => await wait);
    }

    [Fact]
    public async Task WaitAsync_NoAnswerWithinTheBound_TimeoutAndTheWaitIsNotReused()
    {
        var time = new FakeTimeProvider();
        var waits = new BoundedWaits(time);
        var call = new TaskCompletionSource<RedisResult>();
        var wait = waits.WaitAsync(call.Task, Bound);
        time.Advance(Bound - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutException>(async () => await wait);

        // The late answer finds only the abandoned wait; the next call gets a wait of its own and its own bound.
        call.SetResult(RedisResult.Create((RedisValue)1));
        Assert.Equal(0, waits.Pooled);
        var next = new TaskCompletionSource<RedisResult>();
        var second = waits.WaitAsync(next.Task, Bound);
        time.Advance(Bound);
        await Assert.ThrowsAsync<TimeoutException>(async () => await second);
    }

    [Fact]
    public async Task WaitAsync_ReusedWait_BoundedByItsOwnTimeout()
    {
        var time = new FakeTimeProvider();
        var waits = new BoundedWaits(time);
        var first = new TaskCompletionSource<RedisResult>();
        var wait = waits.WaitAsync(first.Task, TimeSpan.FromSeconds(10));
        first.SetResult(RedisResult.Create((RedisValue)1));
        await wait;

        var second = new TaskCompletionSource<RedisResult>();
        var shortWait = waits.WaitAsync(second.Task, TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, waits.Pooled);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAsync<TimeoutException>(async () => await shortWait);
    }

    [Fact]
    public async Task WaitAsync_RealClock_TimesOutNearTheBound()
    {
        var waits = new BoundedWaits(TimeProvider.System);
        var call = new TaskCompletionSource<RedisResult>();
        var started = TimeProvider.System.GetTimestamp();
        await Assert.ThrowsAsync<TimeoutException>(async () => await waits.WaitAsync(call.Task, TimeSpan.FromMilliseconds(50)));
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(45), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void BoundedCache_ManyKeys_NeverHoldsMoreThanItsCapacity()
    {
        var cache = new BoundedCache<int, string>(100);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal($"v{i}", cache.GetOrAdd(i, static (k, _) => $"v{k}", 0));
            Assert.InRange(cache.Count, 0, cache.Capacity);
        }

        var hit = cache.GetOrAdd(9_999, static (_, _) => "new", 0);
        Assert.Equal("v9999", hit);
    }
}
