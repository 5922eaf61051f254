using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>
/// What <see cref="RedisLockOptions.WaitForReplicas"/> costs: acquire+release with and without WAIT 1, on a
/// primary with one replica (e.g. scripts/services.sh up sentinel), interleaved in rounds so both see the same
/// machine load; the median of the rounds' ratios is printed. Usage: <c>replica-wait-cost PRIMARY [rounds] [ops]</c>.
/// </summary>
internal static class ReplicaWaitCost
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args.Count < 1)
        {
            Console.Error.WriteLine("Usage: replica-wait-cost 127.0.0.1:PORT [rounds=7] [ops per round=2000]");
            return 2;
        }

        var rounds = args.Count > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 7;
        var ops = args.Count > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(args[0]);
        var off = Pipeline(redis, 0);
        var on = Pipeline(redis, 1);
        await LoopAsync(off, ops / 4);
        await LoopAsync(on, ops / 4);
        var offUs = new List<double>();
        var onUs = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            // Alternate which goes first, so a trend in the machine's load does not favour one.
            if (r % 2 == 0)
            {
                offUs.Add(await LoopAsync(off, ops));
                onUs.Add(await LoopAsync(on, ops));
            }
            else
            {
                onUs.Add(await LoopAsync(on, ops));
                offUs.Add(await LoopAsync(off, ops));
            }

            Console.WriteLine($"round {r + 1}: without WAIT {offUs[^1]:0.0} us/op, with WAIT 1 {onUs[^1]:0.0} us/op, ratio {onUs[^1] / offUs[^1]:0.00}");
        }

        var ratios = onUs.Zip(offUs, (a, b) => a / b).Order().ToList();
        Console.WriteLine($"median of {rounds} rounds x {ops} sequential acquire+release: without {Median(offUs):0.0} us, with WAIT 1 {Median(onUs):0.0} us, ratio {ratios[ratios.Count / 2]:0.00}");
        return 0;
    }

    private static LockPipeline Pipeline(IConnectionMultiplexer redis, int replicas)
        => new LockPipelineBuilder { Name = $"wait-{replicas}", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddStage(new RedisLockStage(redis, new RedisLockOptions { WaitForReplicas = replicas }))
            .Build();

    private static async Task<double> LoopAsync(LockPipeline pipeline, int ops)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
        {
            // A new key each time: every acquire goes to Redis (no local hand-off), so each pays its WAIT.
            await pipeline.ExecuteAsync(new LockKey("wait-cost", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), (_, _) => ValueTask.CompletedTask);
        }

        return clock.Elapsed.TotalMicroseconds / ops;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
