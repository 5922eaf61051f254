using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>
/// Two hot keys that every caller locks together, naming them in a random order (a transfer between two
/// accounts in either direction): DualLock's key set, and the nested single-key locks a user of a peer
/// library writes by hand, sorted (correct) or in the caller's order (the deadlock, as a negative control).
/// </summary>
internal static partial class Contenders
{
    /// <summary>A pair whose two nested locks wait for each other ends by this wait, not by the run's 30 s one.</summary>
    private static readonly TimeSpan PairWait = TimeSpan.FromSeconds(2);

    private static Contender CreatePair(ConnectionMultiplexer redis, HarnessOptions options) => options.Library switch
    {
        "duallock" => new DualLockPair(redis, options, nestedInCallerOrder: false),
        "duallock-nested" => new DualLockPair(redis, options, nestedInCallerOrder: true),
        "madelson" => new MadelsonPair(redis, options),
        _ => throw new ArgumentException("--mode pair runs with --lib duallock, duallock-nested or madelson [--tuned]"),
    };

    private static (string First, string Second) CallerOrder(string key) => Random.Shared.Next(2) == 0 ? (key + "-a", key + "-b") : (key + "-b", key + "-a");

    private sealed class DualLockPair(ConnectionMultiplexer redis, HarnessOptions options, bool nestedInCallerOrder) : Contender(redis)
    {
        private readonly LockPipeline _pipeline = new LockPipelineBuilder { WaitTimeout = PairWait }
            .AddRedisLock(redis, new Redis.RedisLockOptions { Lease = Lease })
            .Build();

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            var (first, second) = CallerOrder(options.Key);
            LockKey a = new("bench", first), b = new("bench", second);
            if (!nestedInCallerOrder)
            {
                return await _pipeline.TryExecuteAsync([a, b], async (_, _) => await work());
            }

            var attempt = await _pipeline.TryExecuteAsync(a, async (_, ct) => await _pipeline.TryExecuteAsync(b, async (_, _) => await work(), cancellationToken: ct));
            return attempt is { Acquired: true, Result: true };
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    /// <summary>DistributedLock.Redis has no key set: two locks, the lower name first (what a careful user writes).</summary>
    private sealed class MadelsonPair(ConnectionMultiplexer redis, HarnessOptions options) : Contender(redis)
    {
        private readonly RedisDistributedLock _a = Create(redis, options, options.Key + "-a");
        private readonly RedisDistributedLock _b = Create(redis, options, options.Key + "-b");

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            await using var first = await _a.TryAcquireAsync(PairWait);
            if (first is null)
            {
                return false;
            }

            await using var second = await _b.TryAcquireAsync(PairWait);
            if (second is null)
            {
                return false;
            }

            await work();
            return true;
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();

        private static RedisDistributedLock Create(ConnectionMultiplexer redis, HarnessOptions options, string name) => new(name, redis.GetDatabase(), o =>
        {
            if (options.Tuned)
            {
                o.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10));
            }
        });
    }
}
