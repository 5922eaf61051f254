using System.Diagnostics;

namespace DualLock.Comparison.Chaos;

/// <summary>
/// Acts on the processes a fault may touch: the chaos suite's own servers, through
/// <c>scripts/services.sh</c> (which signals only the processes it started, by pid file), and the
/// API instances this run started, by their process id. Never anything found by name.
/// </summary>
internal sealed class FaultTarget(string servicesScript, IReadOnlyList<int> apiProcessIds, IReadOnlyList<string> redlockPorts, Action<string> log)
{
    public string RedlockPort(int index) => index < redlockPorts.Count
        ? redlockPorts[index]
        : throw new InvalidOperationException($"DUALLOCK_REDLOCK_PORTS names {redlockPorts.Count} ports; the Redlock fault needs 3.");

    public Task ServicesAsync(params string[] args) => RunAsync(servicesScript, args);

    public Task SignalApiAsync(int instance, string signal) => RunAsync("kill", [$"-{signal}", apiProcessIds[instance].ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    private async Task RunAsync(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        var output = (await stdout + await stderr).Trim();
        log($"$ {Path.GetFileName(program)} {string.Join(' ', args)} -> exit {process.ExitCode}{(output.Length > 0 ? "\n" + output : "")}");
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} failed (exit {process.ExitCode}): {output}");
        }
    }
}
