using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace DualLock.Comparison.Http;

/// <summary>What wrk's <c>done()</c> reported (charge.lua), plus wrk's own CPU time.</summary>
internal sealed record WrkOutput(long Requests, long DurationUs, long Connect, long Read, long Write, long Status, long Timeout, long P50Us, long P90Us, long P99Us, long MaxUs, double MeanUs)
{
    public double CpuSeconds { get; init; }

    /// <summary>Socket errors and timeouts: requests that got no answer.</summary>
    public long SocketErrors => Connect + Read + Write + Timeout;

    /// <summary>2xx answers: wrk counts every completed response in Requests and the non-2xx/3xx ones in Status.</summary>
    public long Acknowledged => Requests - Status;
}

/// <summary>Runs Debian's wrk, bounded by its own -d and a kill after twice that.</summary>
internal static class Wrk
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    public static async Task<WrkOutput> RunAsync(Uri url, string script, string usersFile, string scenario, TimeSpan duration, int connections, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("wrk") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "-t1", $"-c{connections}", $"-d{(int)Math.Ceiling(duration.TotalSeconds)}s", "--timeout", "5s", "-s", script,
                     url.ToString().TrimEnd('/'), "--", usersFile, scenario,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var cpuBefore = ProcessCpu.ExitedChildrenSeconds();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start wrk.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter((duration * 2) + TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("wrk did not finish within twice its duration.");
        }

        var output = await stdout;
        var cpu = ProcessCpu.ExitedChildrenSeconds() - cpuBefore;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRK_JSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result (exit {process.ExitCode}): {output} {await stderr}");
        var result = JsonSerializer.Deserialize<WrkOutput>(line["WRK_JSON ".Length..], JsonOptions)
            ?? throw new InvalidOperationException("wrk's result line is empty.");
        return result with { CpuSeconds = cpu };
    }

    /// <summary>Runs one wrk per instance at once, the connections split among them, and merges their results (<see cref="Merge"/>).</summary>
    public static async Task<WrkOutput> RunAllAsync(IReadOnlyList<Uri> urls, string script, string usersFile, string scenario, TimeSpan duration, int connections, CancellationToken cancellationToken)
    {
        if (urls.Count == 1)
        {
            return await RunAsync(urls[0], script, usersFile, scenario, duration, connections, cancellationToken);
        }

        var runs = urls.Select((url, i) => RunAsync(url, script, usersFile, scenario, duration, (connections / urls.Count) + (i < connections % urls.Count ? 1 : 0), cancellationToken));
        return Merge(await Task.WhenAll(runs));
    }

    /// <summary>Counts and CPU add up; the duration is the longest; percentiles are the highest of the runs (an upper bound, not a merged histogram).</summary>
    public static WrkOutput Merge(IReadOnlyList<WrkOutput> runs)
    {
        var requests = runs.Sum(r => r.Requests);
        return new WrkOutput(
            requests,
            runs.Max(r => r.DurationUs),
            runs.Sum(r => r.Connect),
            runs.Sum(r => r.Read),
            runs.Sum(r => r.Write),
            runs.Sum(r => r.Status),
            runs.Sum(r => r.Timeout),
            runs.Max(r => r.P50Us),
            runs.Max(r => r.P90Us),
            runs.Max(r => r.P99Us),
            runs.Max(r => r.MaxUs),
            requests == 0 ? 0 : runs.Sum(r => r.MeanUs * r.Requests) / requests)
        {
            CpuSeconds = runs.Sum(r => r.CpuSeconds),
        };
    }

    public static string Describe(WrkOutput w)
        => string.Create(CultureInfo.InvariantCulture, $"{w.Requests} requests, {w.Status} non-2xx, {w.SocketErrors} socket errors");
}
