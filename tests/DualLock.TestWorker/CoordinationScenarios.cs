using System.Diagnostics;
using System.Globalization;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.TestWorker;

/// <summary>Reader-writer and semaphore scenarios: this process contends for one key with the test process.</summary>
internal static partial class Scenarios
{
    static partial void RegisterCoordination(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios)
    {
        // rw-contend <resource> <id> <prefix> <tasks> <runMs> <writePercent> <startAtUnixMs>
        scenarios["rw-contend"] = ReaderWriterContendAsync;

        // sem-contend <resource> <id> <prefix> <tasks> <runMs> <permits> <startAtUnixMs>
        scenarios["sem-contend"] = SemaphoreContendAsync;
    }

    private static async Task<int> ReaderWriterContendAsync(string[] args, CancellationToken cancellationToken)
    {
        var (key, prefix, tasks, runFor, value) = ParseCoordination(args);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisConnection());
        var rw = RedisReaderWriterLock.Create(redis, new ReaderWriterLockOptions { WaitTimeout = TimeSpan.FromSeconds(30) }, new RedisReaderWriterLockOptions { KeyPrefix = prefix });
        await WaitUntilAsync(args[6], cancellationToken);
        var result = await ReaderWriterProbe.RunAsync(rw, redis.GetDatabase(), key, tasks, runFor, value, cancellationToken);
        Console.WriteLine($"{{\"reads\":{result.Reads},\"writes\":{result.Writes},\"violations\":{result.Violations},\"maxReaders\":{result.MaxReaders}}}");
        return 0;
    }

    private static async Task<int> SemaphoreContendAsync(string[] args, CancellationToken cancellationToken)
    {
        var (key, prefix, tasks, runFor, permits) = ParseCoordination(args);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisConnection());
        var pipeline = new LockPipelineBuilder { Name = "worker-sem", WaitTimeout = TimeSpan.FromSeconds(30) }
            .AddRedisSemaphore(redis, permits, new RedisSemaphoreOptions { KeyPrefix = prefix })
            .Build();
        await WaitUntilAsync(args[6], cancellationToken);
        var result = await SemaphoreProbe.RunAsync(pipeline, redis.GetDatabase(), key, tasks, runFor, permits, cancellationToken);
        Console.WriteLine($"{{\"acquired\":{result.Acquired},\"violations\":{result.Violations},\"maxInside\":{result.MaxInside}}}");
        return 0;
    }

    private static (LockKey Key, string Prefix, int Tasks, TimeSpan RunFor, int Value) ParseCoordination(string[] args)
        => (new LockKey(args[0], args[1]), args[2], int.Parse(args[3], CultureInfo.InvariantCulture),
            TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture)), int.Parse(args[5], CultureInfo.InvariantCulture));

    private static string RedisConnection()
        => Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? throw new InvalidOperationException("ConnectionStrings__Redis is not set.");

    private static async Task WaitUntilAsync(string unixMs, CancellationToken cancellationToken)
    {
        var delay = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(unixMs, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }
    }
}

/// <summary>
/// Mixed readers and writers on one key, checking inside the lock with counters in Redis (shared by every
/// process): a writer must find no other writer and no reader inside; a reader must find no writer.
/// </summary>
public static class ReaderWriterProbe
{
    public static async Task<(long Reads, long Writes, long Violations, long MaxReaders)> RunAsync(
        ReaderWriterLockStrategy rw, IDatabase db, LockKey key, int tasks, TimeSpan runFor, int writePercent, CancellationToken cancellationToken)
    {
        RedisKey readers = $"test:{{{key}}}:readers-inside";
        RedisKey writers = $"test:{{{key}}}:writers-inside";
        long reads = 0, writes = 0, violations = 0, maxReaders = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, tasks).Select(t => Task.Run(
            async () =>
            {
                var random = new Random(t + Environment.ProcessId);
                while (clock.Elapsed < runFor)
                {
                    if (random.Next(100) < writePercent)
                    {
                        await rw.ExecuteWriteAsync(key, async (ctx, ct) =>
                        {
                            if (await db.StringIncrementAsync(writers) != 1 || (long)await db.StringGetAsync(readers) != 0 || ctx.FencingToken is null)
                            {
                                Interlocked.Increment(ref violations);
                            }

                            await Task.Delay(2, ct);
                            await db.StringDecrementAsync(writers);
                            Interlocked.Increment(ref writes);
                            return true;
                        }, cancellationToken: cancellationToken);
                    }
                    else
                    {
                        await rw.ExecuteReadAsync(key, async (_, ct) =>
                        {
                            var inside = await db.StringIncrementAsync(readers);
                            InterlockedMax(ref maxReaders, inside);
                            if ((long)await db.StringGetAsync(writers) != 0)
                            {
                                Interlocked.Increment(ref violations);
                            }

                            await Task.Delay(2, ct);
                            await db.StringDecrementAsync(readers);
                            Interlocked.Increment(ref reads);
                            return true;
                        }, cancellationToken: cancellationToken);
                    }
                }
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        return (reads, writes, violations, maxReaders);
    }

    internal static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

/// <summary>Callers of a semaphore on one key, counting inside with a counter in Redis: never more than the permits.</summary>
public static class SemaphoreProbe
{
    public static async Task<(long Acquired, long Violations, long MaxInside)> RunAsync(
        LockPipeline pipeline, IDatabase db, LockKey key, int tasks, TimeSpan runFor, int permits, CancellationToken cancellationToken)
    {
        RedisKey inside = $"test:{{{key}}}:sem-inside";
        long acquired = 0, violations = 0, maxInside = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, tasks).Select(_ => Task.Run(
            async () =>
            {
                while (clock.Elapsed < runFor)
                {
                    await pipeline.ExecuteAsync(key, async (_, ct) =>
                    {
                        var now = await db.StringIncrementAsync(inside);
                        ReaderWriterProbe.InterlockedMax(ref maxInside, now);
                        if (now > permits)
                        {
                            Interlocked.Increment(ref violations);
                        }

                        await Task.Delay(2, ct);
                        await db.StringDecrementAsync(inside);
                        Interlocked.Increment(ref acquired);
                        return true;
                    }, cancellationToken: cancellationToken);
                }
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        return (acquired, violations, maxInside);
    }
}
