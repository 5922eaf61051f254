using DualLock.Redis;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>The reader-writer lock and the semaphore of DualLock and of DistributedLock.Redis, on the same harness.</summary>
internal static partial class Contenders
{
    private static Contender CreateCoordination(ConnectionMultiplexer redis, HarnessOptions options) => (options.Library, options.Mode) switch
    {
        ("duallock", "rw") => new DualLockReaderWriter(redis, options),
        ("duallock", "sem") => new DualLockSemaphore(redis, options),
        ("madelson", "rw") => new MadelsonReaderWriter(redis, options),
        ("madelson", "sem") => new MadelsonSemaphore(redis, options),
        _ => throw new ArgumentException($"--mode {options.Mode} runs with --lib duallock or madelson"),
    };

    private sealed class DualLockReaderWriter(ConnectionMultiplexer redis, HarnessOptions options) : Contender(redis)
    {
        private readonly ReaderWriterLockStrategy _rw = RedisReaderWriterLock.Create(
            redis, new ReaderWriterLockOptions { WaitTimeout = Wait }, new RedisReaderWriterLockOptions { Lease = Lease });

        private readonly LockKey _key = new("bench", options.Key);

        public override Task<bool> RunAsync(Func<Task> work) => RunAsync(true, work);

        public override async Task<bool> RunAsync(bool write, Func<Task> work)
        {
            var attempt = write
                ? await _rw.TryExecuteWriteAsync(_key, async (_, _) => { await work(); return true; })
                : await _rw.TryExecuteReadAsync(_key, async (_, _) => { await work(); return true; });
            return attempt.Acquired;
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    private sealed class DualLockSemaphore(ConnectionMultiplexer redis, HarnessOptions options) : Contender(redis)
    {
        private readonly LockPipeline _pipeline = new LockPipelineBuilder { WaitTimeout = Wait }
            .AddRedisSemaphore(redis, options.Permits, new RedisSemaphoreOptions { Lease = Lease })
            .Build();

        private readonly LockKey _key = new("bench", options.Key);

        public override async Task<bool> RunAsync(Func<Task> work)
            => await _pipeline.TryExecuteAsync(_key, async (_, _) => await work());

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    private sealed class MadelsonReaderWriter : Contender
    {
        private readonly RedisDistributedReaderWriterLock _lock;

        public MadelsonReaderWriter(ConnectionMultiplexer redis, HarnessOptions options)
            : base(redis)
        {
            _lock = new RedisDistributedReaderWriterLock(options.Key, redis.GetDatabase(), o =>
            {
                if (options.Tuned)
                {
                    o.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10));
                }
            });
        }

        public override Task<bool> RunAsync(Func<Task> work) => RunAsync(true, work);

        public override async Task<bool> RunAsync(bool write, Func<Task> work)
        {
            await using var handle = write ? await _lock.TryAcquireWriteLockAsync(Wait) : await _lock.TryAcquireReadLockAsync(Wait);
            if (handle is null)
            {
                return false;
            }

            await work();
            return true;
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    private sealed class MadelsonSemaphore : Contender
    {
        private readonly RedisDistributedSemaphore _semaphore;

        public MadelsonSemaphore(ConnectionMultiplexer redis, HarnessOptions options)
            : base(redis)
        {
            _semaphore = new RedisDistributedSemaphore(options.Key, options.Permits, redis.GetDatabase(), o =>
            {
                if (options.Tuned)
                {
                    o.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10));
                }
            });
        }

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            await using var handle = await _semaphore.TryAcquireAsync(Wait);
            if (handle is null)
            {
                return false;
            }

            await work();
            return true;
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }
}
