using System.Diagnostics;
using System.Text.Json;

namespace DualLock.IntegrationTests;

/// <summary>Starts DualLock.TestWorker as a separate OS process with the servers' environment.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private WorkerProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static WorkerProcess Start(string scenario, params string[] args)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "DualLock.TestWorker.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(worker);
        info.ArgumentList.Add(scenario);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new WorkerProcess(Process.Start(info) ?? throw new InvalidOperationException("Could not start the test worker."));
    }

    /// <summary>Waits (bounded) for the worker to exit successfully and parses its JSON result line.</summary>
    public async Task<JsonElement> ResultAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The test worker did not finish within {timeout}. stderr: {await _stderr}");
        }

        var stdout = await _stdout;
        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The test worker exited with {_process.ExitCode}. stderr: {await _stderr} stdout: {stdout}");
        }

        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"The test worker printed no result. stderr: {await _stderr}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
