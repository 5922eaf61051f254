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

    public static string Describe(WrkOutput w)
        => string.Create(CultureInfo.InvariantCulture, $"{w.Requests} requests, {w.Status} non-2xx, {w.SocketErrors} socket errors");
}
