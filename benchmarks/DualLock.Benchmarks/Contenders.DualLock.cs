using StackExchange.Redis;

namespace DualLock.Benchmarks;

internal static partial class Contenders
{
    private static DualLockContender CreateDualLock(ConnectionMultiplexer redis, HarnessOptions options) => new DualLockContender(redis, options);

    /// <summary>The in-process stage on the same harness: what the harness itself can reach on this machine.</summary>
    private sealed class InProcessContender(ConnectionMultiplexer redis) : Contender(redis)
    {
        private readonly LockPipeline _pipeline = new LockPipelineBuilder { WaitTimeout = Wait }.AddInProcessLock().Build();
        private readonly LockKey _key = new("bench", "inprocess");

        public override async Task<bool> RunAsync(Func<Task> work)
            => await _pipeline.TryExecuteAsync(_key, async (_, _) => await work());

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    private sealed class DualLockContender(ConnectionMultiplexer redis, HarnessOptions options) : Contender(redis)
    {
        private readonly LockPipeline _pipeline = new LockPipelineBuilder { WaitTimeout = Wait }
            .AddRedisLock(redis, options.Handoffs is { } handoffs
                ? new Redis.RedisLockOptions { Lease = Lease, MaxConsecutiveHandoffs = handoffs }
                : new Redis.RedisLockOptions { Lease = Lease })
            .Build();

        private readonly LockKey _key = new("bench", options.Key);

        public override async Task<bool> RunAsync(Func<Task> work)
            => await _pipeline.TryExecuteAsync(_key, async (_, _) => await work());

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }
}
