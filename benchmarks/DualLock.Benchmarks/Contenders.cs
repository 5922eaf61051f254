using Medallion.Threading.Redis;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>One library's way of running work under a Redis lock, for the contention harness.</summary>
internal abstract class Contender(ConnectionMultiplexer redis) : IAsyncDisposable
{
    public ConnectionMultiplexer Redis { get; } = redis;

    /// <summary>Runs <paramref name="work"/> under the lock; false when the lock was not acquired within the wait.</summary>
    public abstract Task<bool> RunAsync(Func<Task> work);

    /// <summary>Runs <paramref name="work"/> as a writer (or the only kind, for a lock) or a reader; false when not admitted within the wait.</summary>
    public virtual Task<bool> RunAsync(bool write, Func<Task> work) => RunAsync(work);

    /// <summary>Gets a value indicating whether the work runs inside the lock, so two callers inside at once is an overlap.</summary>
    public virtual bool WorkRunsInsideLock => true;

    /// <summary>Checks the protected resource after the run; returns what is wrong, or null.</summary>
    public virtual Task<string?> VerifyAsync(long acquisitionsOfAllProcesses) => Task.FromResult<string?>(null);

    public abstract ValueTask DisposeAsync();
}

internal static partial class Contenders
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    public static async Task<Contender> CreateAsync(HarnessOptions options)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(RepositoryRoot.Env("ConnectionStrings__Redis"));
        if (options.Mode == "pair")
        {
            return CreatePair(redis, options);
        }

        if (options.Mode != "exclusive")
        {
            return CreateCoordination(redis, options);
        }

        return options.Library switch
        {
            "madelson" => new Madelson(redis, options),
            "redlock" => new RedLock(redis, options),
            "duallock" => CreateDualLock(redis, options),
            "inprocess" => new InProcessContender(redis),
            _ when options.Library.StartsWith("mysql-", StringComparison.Ordinal) => await CreateMySqlAsync(redis, options),
            _ => throw new ArgumentException($"unknown --lib {options.Library}: duallock, madelson or redlock"),
        };
    }

    private sealed class Madelson : Contender
    {
        private readonly RedisDistributedLock _lock;

        public Madelson(ConnectionMultiplexer redis, HarnessOptions options)
            : base(redis)
        {
            _lock = new RedisDistributedLock(options.Key, redis.GetDatabase(), o =>
            {
                if (options.Tuned)
                {
                    o.BusyWaitSleepTime(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10));
                }
            });
        }

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            await using var handle = await _lock.TryAcquireAsync(Wait);
            if (handle is null)
            {
                return false;
            }

            await work();
            return true;
        }

        public override async ValueTask DisposeAsync() => await Redis.DisposeAsync();
    }

    private sealed class RedLock : Contender
    {
        private readonly RedLockFactory _factory;
        private readonly TimeSpan _retry;
        private readonly string _key;

        public RedLock(ConnectionMultiplexer redis, HarnessOptions options)
            : base(redis)
        {
            _factory = RedLockFactory.Create([new RedLockMultiplexer(redis)]);
            _retry = TimeSpan.FromMilliseconds(options.Tuned ? 5 : 50);
            _key = options.Key;
        }

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            await using var redLock = await _factory.CreateLockAsync(_key, Lease, Wait, _retry);
            if (!redLock.IsAcquired)
            {
                return false;
            }

            await work();
            return true;
        }

        public override async ValueTask DisposeAsync()
        {
            _factory.Dispose();
            await Redis.DisposeAsync();
        }
    }
}
