using System.Reflection;
using System.Runtime.ExceptionServices;
using DualLock.Redis;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// Redlock when a node answers with an error, when the fence raise eats the validity, and when the
/// wait budget is shorter than a node's answer. Each test runs three redis-servers of its own.
/// </summary>
public sealed class RedlockFaultTests
{
    private static readonly string[] NoLock = ["", "", ""];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Acquire_OneNodeAnswersScriptError_HoldsOnMajorityThenReleasesEveryNode()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var key = NewKey();
        await nodes.Node(2).StringSetAsync(RedisFencingMonotonicTests.FenceName(key), "x"); // its INCR fails after its SET NX ran
        var pipeline = Pipeline(new RedlockStage(nodes.Connections), TimeSpan.FromSeconds(5));

        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Equal(NoLock, await LockValuesAsync(nodes, key)); // no grant left behind for a lease
        Assert.Null(outcome); // a minority of failing nodes is what Redlock tolerates
    }

    [Fact]
    public async Task Acquire_MajorityOutOfMemory_UnavailableAndReleasesTheHealthyNode()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        foreach (var i in new[] { 1, 2 })
        {
            await nodes.Node(i).ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "noeviction");
            await nodes.Node(i).ExecuteAsync("CONFIG", "SET", "maxmemory", "1");
        }

        var key = NewKey();
        var pipeline = Pipeline(new RedlockStage(nodes.Connections), TimeSpan.FromSeconds(5));

        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        var healthy = await nodes.Node(0).StringGetAsync(LockName(key));
        var ttl = await nodes.Node(0).KeyTimeToLiveAsync(LockName(key));
        Assert.True(healthy.IsNull, $"the healthy node still holds the failed attempt's grant for {ttl}");
        // -OOM refuses writes (see docs/failures.md): a majority refusing is a Redlock that cannot lock now, so a fallback may go on.
        var error = Assert.IsType<LockUnavailableException>(outcome);
        Assert.Contains("refused writes", error.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_ValidityRunsOutWhileRaisingTheFence_ReleasesEverywhereAndTimesOut()
    {
        var (outcome, ran, locks, raises) = await RunSlowRaiseAsync(wait: TimeSpan.FromSeconds(10), tick: false);

        Assert.Equal(1, raises);
        Assert.False(ran, "the work ran under a lock whose validity had run out");
        Assert.IsType<LockTimeoutException>(outcome);
        Assert.Equal(NoLock, locks);
    }

    [Fact]
    public async Task Acquire_ValidityRunsOutWhileRaisingTheFence_RetriesWithinTheWait()
    {
        var (outcome, ran, locks, raises) = await RunSlowRaiseAsync(wait: TimeSpan.FromMinutes(10), tick: true);

        Assert.Null(outcome);
        Assert.True(ran);
        Assert.Equal(1, raises); // the first attempt raised node 2, so the retry needed none
        Assert.Equal(NoLock, locks);
    }

    [Fact]
    public async Task Acquire_OneNodeDownThenTwo_AcquiresThenUnavailable()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var pipeline = Pipeline(new RedlockStage(nodes.Connections, new RedlockOptions { OperationTimeout = TimeSpan.FromMilliseconds(300) }), TimeSpan.FromSeconds(20));

        await nodes.StopAsync(2);
        var fence = await pipeline.ExecuteAsync(NewKey(), (ctx, _) => ValueTask.FromResult(ctx.FencingToken), cancellationToken: Ct);
        await nodes.StopAsync(1);
        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.True(fence > 0);
        Assert.IsType<LockUnavailableException>(outcome); // a majority is down: an outage, at once, not after the 20 s wait
    }

    [Fact]
    public async Task Acquire_NodesKnownDown_NotWaitedFor()
    {
        // A node whose connection already reports it down would answer nothing before the call bound (1 s):
        // with one down the majority goes on without waiting for it (acquire and release), with two the
        // attempt fails at once. A behaviour bound, not a benchmark: waiting for the dead node takes 1 s.
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var pipeline = Pipeline(new RedlockStage(nodes.Connections, new RedlockOptions { OperationTimeout = TimeSpan.FromSeconds(1) }), TimeSpan.FromSeconds(20));
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct); // scripts loaded, connections warm

        await nodes.StopAsync(2);
        Assert.True(await EventuallyAsync(() => Task.FromResult(!nodes.Connections[2].IsConnected), TimeSpan.FromSeconds(10)), "the connection never reported the stopped node down");
        for (var i = 0; i < 3; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(700), $"acquire + release with one node known down took {clock.ElapsedMilliseconds} ms (bound 1000 ms)");
        }

        await nodes.StopAsync(1);
        Assert.True(await EventuallyAsync(() => Task.FromResult(!nodes.Connections[1].IsConnected), TimeSpan.FromSeconds(10)), "the connection never reported the second node down");
        var failing = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        Assert.True(failing.Elapsed < TimeSpan.FromMilliseconds(700), $"with a majority known down the acquire failed after {failing.ElapsedMilliseconds} ms (bound 1000 ms)");
    }

    [Fact]
    public async Task Acquire_NodesSlowerThanTheWait_TimesOutNotUnavailable()
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var stage = new RedlockStage(nodes.Connections, new RedlockOptions { OperationTimeout = TimeSpan.FromSeconds(1) });
        var pipeline = Pipeline(stage, TimeSpan.FromMilliseconds(200));
        var key = NewKey();
        await pipeline.ExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct); // scripts loaded, connections warm

        // Two of three nodes stop answering for longer than the wait but shorter than a real outage would last.
        foreach (var i in new[] { 1, 2 })
        {
            await nodes.Node(i).ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        }

        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.IsType<LockTimeoutException>(outcome); // the budget ran out: a timeout, not an outage to fall back from
        Assert.True((await nodes.Node(0).StringGetAsync(LockName(key))).IsNull, "the answering node kept the grant");
        Assert.True(await EventuallyAsync(async () => (await Task.WhenAll(nodes.Connections.Select(c => c.GetDatabase().StringGetAsync(LockName(key))))).All(v => v.IsNull), TimeSpan.FromSeconds(10)), "a paused node kept the grant after it woke");
    }

    /// <summary>
    /// Node 0 and 1 have a fence counter ahead of node 2, so node 2 must be raised; the clock jumps past
    /// the validity while that raise is on the wire, as if the round trip had taken that long.
    /// </summary>
    private static async Task<(Exception? Outcome, bool Ran, string[] Locks, int Raises)> RunSlowRaiseAsync(TimeSpan wait, bool tick)
    {
        await using var nodes = await PrivateRedlockNodes.StartAsync();
        var key = NewKey();
        var ahead = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000) + 3_600_000_000_000;
        await nodes.Node(0).StringSetAsync(RedisFencingMonotonicTests.FenceName(key), ahead);
        await nodes.Node(1).StringSetAsync(RedisFencingMonotonicTests.FenceName(key), ahead);

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new RedlockOptions { Lease = TimeSpan.FromSeconds(10) };
        var raises = 0;
        var slow = ClockJumpingConnection.Wrap(nodes.Connections[2], isRaise: keys => keys is [var k] && ((string)k!).EndsWith(":fence", StringComparison.Ordinal), onRaise: () =>
        {
            Interlocked.Increment(ref raises);
            time.Advance(options.Lease * 2);
        });
        var stage = new RedlockStage([nodes.Connections[0], nodes.Connections[1], slow], options, time);
        var pipeline = new LockPipelineBuilder { Name = "redlock-slow-raise", TimeProvider = time, WaitTimeout = wait }.AddStage(stage).Build();

        // A retry sleeps on the fake clock: move it slowly (1 ms per 10 ms) so that pause ends and no bound fires early.
        using var done = new CancellationTokenSource();
        var ticker = tick ? TickAsync(time, done.Token) : Task.CompletedTask;
        var ran = false;
        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) =>
        {
            ran = true;
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct));
        await done.CancelAsync();
        await ticker;

        return (outcome, ran, await LockValuesAsync(nodes, key), raises);
    }

    private static async Task TickAsync(FakeTimeProvider time, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Delay(10, CancellationToken.None);
        }
    }

    private static async Task<string[]> LockValuesAsync(PrivateRedlockNodes nodes, LockKey key)
        => [.. (await Task.WhenAll(nodes.Connections.Select(c => c.GetDatabase().StringGetAsync(LockName(key))))).Select(v => (string?)v ?? "")];
}

/// <summary>
/// Passes every call through to a real connection, and runs a callback (here: moves a fake clock)
/// when the fence-raise script is sent. Time injection only; Redis still does all the work.
/// </summary>
public class ClockJumpingConnection : DispatchProxy
{
    private object _inner = null!;
    private Func<RedisKey[], bool> _isRaise = null!;
    private Action _onRaise = null!;

    internal static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner, Func<RedisKey[], bool> isRaise, Action onRaise)
        => Create<IConnectionMultiplexer>(inner, isRaise, onRaise);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IDatabaseAsync.ScriptEvaluateAsync) && args is [string, RedisKey[] keys, ..] && _isRaise(keys))
        {
            _onRaise();
        }

        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        return result is IDatabase database && targetMethod.Name == nameof(IConnectionMultiplexer.GetDatabase)
            ? Create<IDatabase>(database, _isRaise, _onRaise)
            : result;
    }

    private static T Create<T>(T inner, Func<RedisKey[], bool> isRaise, Action onRaise)
        where T : class
    {
        var proxy = DispatchProxy.Create<T, ClockJumpingConnection>();
        var self = (ClockJumpingConnection)(object)proxy;
        self._inner = inner;
        self._isRaise = isRaise;
        self._onRaise = onRaise;
        return proxy;
    }
}
