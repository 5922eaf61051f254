using System.Diagnostics;
using System.Globalization;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.TestWorker;

/// <summary>Redis scenarios: this process contends for one key with the test process.</summary>
internal static partial class Scenarios
{
    static partial void RegisterRedis(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios)
    {
        // redis-contend <resource> <id> <tasks> <iterations> <holdMs> <startAtUnixMs> <runMs>
        // Each acquisition checks, inside the lock, that nobody else is inside (INCR of a shared
        // counter must give 1) and that the fencing token is above the last one any holder saw.
        scenarios["redis-contend"] = RedisContendAsync;
    }

    private static async Task<int> RedisContendAsync(string[] args, CancellationToken cancellationToken)
    {
        var key = new LockKey(args[0], args[1]);
        var tasks = int.Parse(args[2], CultureInfo.InvariantCulture);
        var iterations = int.Parse(args[3], CultureInfo.InvariantCulture);
        var hold = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));
        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[5], CultureInfo.InvariantCulture));
        var runFor = TimeSpan.FromMilliseconds(int.Parse(args[6], CultureInfo.InvariantCulture));

        var connection = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? throw new InvalidOperationException("ConnectionStrings__Redis is not set.");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connection);
        var pipeline = new LockPipelineBuilder { Name = "worker", WaitTimeout = TimeSpan.FromSeconds(30) }
            .AddRedisLock(redis, new RedisLockOptions { Lease = TimeSpan.FromSeconds(5) })
            .Build();

        var delay = startAt - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }

        var result = await ContentionProbe.RunAsync(pipeline, redis.GetDatabase(), key, tasks, iterations, hold, runFor, cancellationToken);
        Console.WriteLine($"{{\"acquired\":{result.Acquired},\"overlaps\":{result.Overlaps},\"fenceViolations\":{result.FenceViolations}}}");
        return 0;
    }
}

/// <summary>Contends for one key and checks, inside the lock, what a correct lock guarantees (shared by the test process and this one).</summary>
public static class ContentionProbe
{
    private static readonly string ProcessId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public static async Task<(long Acquired, long Overlaps, long FenceViolations)> RunAsync(
        LockPipeline pipeline, IDatabase db, LockKey key, int tasks, int iterations, TimeSpan hold, TimeSpan runFor, CancellationToken cancellationToken)
    {
        RedisKey inside = $"test:{{{key}}}:inside";
        RedisKey lastFence = $"test:{{{key}}}:last-fence";
        long acquired = 0, overlaps = 0, violations = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, tasks).Select(_ => Task.Run(
            async () =>
            {
                for (var i = 0; i < iterations && (runFor <= TimeSpan.Zero || clock.Elapsed < runFor); i++)
                {
                    await pipeline.ExecuteAsync(key, async (ctx, ct) =>
                    {
                        if (await db.StringIncrementAsync(inside) != 1)
                        {
                            Interlocked.Increment(ref overlaps);
                        }

                        // Tokens strictly increase from one Redis acquisition to the next; a local hand-off keeps the token, so only the same process may see it again.
                        var last = ((string?)await db.StringGetAsync(lastFence) ?? "0:").Split(':');
                        var lastToken = long.Parse(last[0], CultureInfo.InvariantCulture);
                        if (ctx.FencingToken is not { } fence || fence < lastToken || (fence == lastToken && last[1] != ProcessId))
                        {
                            Interlocked.Increment(ref violations);
                        }

                        await db.StringSetAsync(lastFence, $"{ctx.FencingToken}:{ProcessId}");
                        if (hold > TimeSpan.Zero)
                        {
                            await Task.Delay(hold, ct);
                        }

                        await db.StringDecrementAsync(inside);
                        Interlocked.Increment(ref acquired);
                    }, cancellationToken: cancellationToken);
                }
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        return (acquired, overlaps, violations);
    }
}
