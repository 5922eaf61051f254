using System.Reflection;
using System.Runtime.ExceptionServices;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// The release channel only speeds a waiter up; the recheck interval is what bounds how late it sees a free
/// key. A subscription slow to confirm (the pub/sub connection half-open after a network fault, or still
/// reconnecting: the fault search found a SUBSCRIBE taking the operation timeout after its faults had stopped)
/// or refused (a proxy or a command map without SUBSCRIBE) must not hold a waiter up or fail it. Every lock
/// here is on the real Redis; only the subscribing is held back, in front of the real subscriber.
/// </summary>
public sealed class RedisSubscriptionStallTests
{
    // A call bound longer than the wait: a waiter that waited for its subscription would time out before it rechecked.
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lock_SubscriptionNeverConfirms_WaiterRechecksAndAcquiresOnceTheHolderReleases()
    {
        var redis = await Servers.SharedRedisAsync();
        var stalled = StalledSubscriber.Over(redis);
        var options = new RedisLockOptions { OperationTimeout = CallBound };
        var holder = Pipeline(new RedisLockStage(redis, options), Wait);
        var waiter = Pipeline(new RedisLockStage(FaultInjectingRedis.WithSubscriber(redis, stalled.AsSubscriber), options), Wait);

        Assert.Equal(1, await WhileHeldAsync(holder, waiter, stalled.Asked));
    }

    [Fact]
    public async Task Semaphore_SubscriptionNeverConfirms_WaiterRechecksAndIsAdmittedOnceThePermitIsFree()
    {
        var redis = await Servers.SharedRedisAsync();
        var stalled = StalledSubscriber.Over(redis);
        var prefix = "stall-" + Guid.NewGuid().ToString("N");
        LockPipeline Semaphore(IConnectionMultiplexer connection) => new LockPipelineBuilder { Name = "stall", WaitTimeout = Wait }
            .AddRedisSemaphore(connection, 1, new RedisSemaphoreOptions { KeyPrefix = prefix, OperationTimeout = CallBound }).Build();

        Assert.Equal(1, await WhileHeldAsync(Semaphore(redis), Semaphore(FaultInjectingRedis.WithSubscriber(redis, stalled.AsSubscriber)), stalled.Asked));
    }

    [Fact]
    public async Task Lock_SubscribeRefusedByTheCommandMap_WaiterPollsAndAcquires()
    {
        // A real connection that may not send SUBSCRIBE (as behind a proxy without pub/sub): the client refuses the call itself.
        var configuration = ConfigurationOptions.Parse(Servers.Redis);
        configuration.CommandMap = CommandMap.Create(new HashSet<string> { "SUBSCRIBE" }, available: false);
        await using var noPubSub = await ConnectionMultiplexer.ConnectAsync(configuration);
        var holder = Pipeline(await Servers.SharedRedisAsync(), wait: Wait);

        // The waiter's first attempt finds the key held and it goes on to subscribe within 200 ms; before the fix the
        // client's RedisCommandException came out of the acquire.
        Assert.Equal(1, await WhileHeldAsync(holder, Pipeline(noPubSub, wait: Wait), Task.Delay(200, Ct)));
    }

    /// <summary>
    /// The holder takes a key; the waiter queues behind it in Redis and goes on to subscribe (<paramref name="subscribing"/>
    /// completes once it has); then the holder leaves. Returns what the waiter's work saw (its token, or 1 for a permit).
    /// </summary>
    private static async Task<long> WhileHeldAsync(LockPipeline holder, LockPipeline waiter, Task subscribing)
    {
        var key = NewKey();
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = holder.ExecuteAsync(key, async (_, _) => { inside.SetResult(); await leave.Task; }, cancellationToken: Ct).AsTask();
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        var waiting = waiter.ExecuteAsync(key, (_, _) => ValueTask.FromResult(1L), cancellationToken: Ct).AsTask();
        await subscribing.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        leave.SetResult();
        await holding;

        // Before the fix: LockTimeoutException after the 2 s wait, the waiter still waiting for its subscription (bound 3 s).
        return await waiting;
    }

    /// <summary>The real subscriber, except that a subscribe is never confirmed (the call stays out); <see cref="Asked"/> completes at the first.</summary>
    public class StalledSubscriber : DispatchProxy
    {
        private readonly TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ISubscriber _real = null!;

        public Task Asked => _asked.Task;

        public ISubscriber AsSubscriber => (ISubscriber)(object)this;

        public static StalledSubscriber Over(IConnectionMultiplexer redis)
        {
            var proxy = Create<ISubscriber, StalledSubscriber>();
            var self = (StalledSubscriber)(object)proxy;
            self._real = redis.GetSubscriber();
            return self;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(ISubscriber.SubscribeAsync))
            {
                _asked.TrySetResult();
                return new TaskCompletionSource().Task;
            }

            try
            {
                return targetMethod.Invoke(_real, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
