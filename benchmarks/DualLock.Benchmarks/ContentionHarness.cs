using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HdrHistogram;

namespace DualLock.Benchmarks;

/// <summary>
/// Hot-key contention: N callers (optionally split over several OS processes) take one key in a
/// loop for a fixed time, holding it for a fixed time. Reports throughput, wait percentiles,
/// hand-off latency (release to the next acquire in the same process) and Redis commands per
/// acquire (counted by each process's multiplexer). BenchmarkDotNet measures one operation's cost; this measures a queue.
/// </summary>
internal static class ContentionHarness
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static async Task<int> RunAsync(string[] args)
    {
        var options = HarnessOptions.Parse(args);
        if (options.IsChild)
        {
            var child = await RunProcessAsync(options);
            Console.WriteLine(JsonSerializer.Serialize(child, Json));
            return 0;
        }

        // Children start first and wait for a shared start time so every process contends together.
        var startAt = DateTimeOffset.UtcNow.AddSeconds(options.Processes > 1 ? 3 : 0.2);
        var children = Enumerable.Range(1, options.Processes - 1).Select(_ => StartChild(args, startAt)).ToList();
        var own = await RunProcessAsync(options with { StartAt = startAt });
        var results = new List<ProcessResult> { own };
        foreach (var child in children)
        {
            var output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            results.Add(JsonSerializer.Deserialize<ProcessResult>(output.Trim().Split('\n')[^1], Json)!);
        }

        var commands = results.Sum(r => r.RedisOperations);
        string? problem;
        await using (var verifier = await Contenders.CreateAsync(options))
        {
            problem = await verifier.VerifyAsync(results.Sum(r => r.Acquisitions));
        }

        var total = results.Sum(r => r.Acquisitions);
        var seconds = options.Duration.TotalSeconds;
        var summary = new
        {
            library = options.Library,
            settings = options.Settings,
            callers = options.Callers * options.Processes,
            processes = options.Processes,
            holdMs = options.HoldMs,
            durationS = seconds,
            acquisitions = total,
            opsPerSecond = total / seconds,
            mode = options.Mode,
            writePercent = options.WritePercent,
            permits = options.Mode == "sem" ? options.Permits : (int?)null,
            fairLimitOpsPerSecond = FairLimit(options),
            waitP50Ms = results.Max(r => r.WaitP50Ms),
            waitP99Ms = results.Max(r => r.WaitP99Ms),
            waitMaxMs = results.Max(r => r.WaitMaxMs),
            fairWaitBoundMs = FairWait(options),
            handoffP50Ms = results.Average(r => r.HandoffP50Ms),
            redisCommandsPerAcquire = total == 0 ? 0 : (double)commands / total,
            perProcessAcquisitions = results.Select(r => r.Acquisitions).ToArray(),
            timeouts = results.Sum(r => r.Timeouts),
            overlaps = results.Sum(r => r.Overlaps),
            verification = problem ?? "ok",
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json));
        return summary.overlaps == 0 && problem is null ? 0 : 1;
    }

    private static async Task<ProcessResult> RunProcessAsync(HarnessOptions options)
    {
        await using var contender = await Contenders.CreateAsync(options);
        var delay = options.StartAt - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay);
        }

        var waits = new LongHistogram(TimeStamp.Minutes(10), 3);
        var handoffs = new LongHistogram(TimeStamp.Minutes(10), 3);
        long acquisitions = 0, timeouts = 0, overlaps = 0, inside = 0, lastRelease = 0, writers = 0;
        var shared = options.Mode == "sem" ? options.Permits : options.Mode == "rw" ? long.MaxValue : 1;
        var deadline = Stopwatch.GetTimestamp() + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);

        async Task CallerAsync()
        {
            var random = new Random();
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var started = Stopwatch.GetTimestamp();
                var write = options.Mode != "rw" || random.Next(100) < options.WritePercent;
                var acquired = await contender.RunAsync(write, async () =>
                {
                    var now = Stopwatch.GetTimestamp();
                    var others = Interlocked.Increment(ref inside);
                    var writing = options.Mode == "rw" && write ? Interlocked.Increment(ref writers) : Interlocked.Read(ref writers);

                    // A lock: nobody else inside. A semaphore: at most its permits. A reader-writer lock: a writer alone, readers with no writer.
                    var overlap = options.Mode == "rw" ? (write ? others > 1 || writing > 1 : writing > 0) : others > shared;
                    if (overlap && contender.WorkRunsInsideLock)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    lock (waits)
                    {
                        waits.RecordValue(now - started);
                        var released = Interlocked.Read(ref lastRelease);
                        if (released > 0 && released <= now)
                        {
                            handoffs.RecordValue(now - released);
                        }
                    }

                    if (options.HoldMs > 0)
                    {
                        // Spin for sub-millisecond accuracy: Task.Delay(1) sleeps ~1-2 ms on Linux.
                        var until = now + (long)(options.HoldMs * Stopwatch.Frequency / 1000.0);
                        while (Stopwatch.GetTimestamp() < until)
                        {
                            await Task.Yield();
                        }
                    }

                    if (options.Mode == "rw" && write)
                    {
                        Interlocked.Decrement(ref writers);
                    }

                    Interlocked.Decrement(ref inside);
                    Interlocked.Exchange(ref lastRelease, Stopwatch.GetTimestamp());
                });
                if (acquired)
                {
                    Interlocked.Increment(ref acquisitions);
                }
                else
                {
                    Interlocked.Increment(ref timeouts);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Callers).Select(_ => Task.Run(CallerAsync)));
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

        // Counted by the client (every command its multiplexer sent), so other users of the
        // shared redis-server cannot inflate the figure the way INFO stats deltas would.
        var counters = contender.Redis.GetCounters();
        return new ProcessResult(
            counters.Interactive.OperationCount + counters.Subscription.OperationCount,
            acquisitions, timeouts, overlaps,
            // No acquisition at all (the nested pair's deadlock): no wait to report, the timeouts say what happened.
            waits.TotalCount == 0 ? 0 : Ms(waits.GetValueAtPercentile(50)), waits.TotalCount == 0 ? 0 : Ms(waits.GetValueAtPercentile(99)), Ms(waits.GetMaxValue()),
            handoffs.TotalCount == 0 ? 0 : Ms(handoffs.GetValueAtPercentile(50)));
    }

    /// <summary>
    /// The most a fair lock could do with this hold time: one holder at a time; the permits at a time (a semaphore);
    /// a reader-writer lock where writes run alone and reads all at once (every caller a reader at once).
    /// </summary>
    private static double? FairLimit(HarnessOptions options)
    {
        if (options.HoldMs <= 0)
        {
            return null;
        }

        var perHolder = 1000.0 / options.HoldMs;
        var callers = options.Callers * options.Processes;
        return options.Mode switch
        {
            "sem" => perHolder * Math.Min(options.Permits, callers),
            "rw" => perHolder / ((options.WritePercent / 100.0) + ((100 - options.WritePercent) / 100.0 / callers)),
            _ => perHolder,
        };
    }

    /// <summary>The longest a caller waits in a fair queue: everyone ahead of it holds once (in turns of the permits).</summary>
    private static double FairWait(HarnessOptions options)
    {
        var callers = options.Callers * options.Processes;
        return options.Mode switch
        {
            "sem" => options.HoldMs * Math.Ceiling((double)callers / options.Permits),
            "rw" => options.HoldMs * (1 + (callers * options.WritePercent / 100.0)),
            _ => options.HoldMs * callers,
        };
    }

    private static Process StartChild(string[] args, DateTimeOffset startAt)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(typeof(ContentionHarness).Assembly.Location);
        info.ArgumentList.Add("contention");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("--child");
        info.ArgumentList.Add(startAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        return Process.Start(info) ?? throw new InvalidOperationException("could not start a child process");
    }

    internal sealed record ProcessResult(long RedisOperations, long Acquisitions, long Timeouts, long Overlaps, double WaitP50Ms, double WaitP99Ms, double WaitMaxMs, double HandoffP50Ms);
}
