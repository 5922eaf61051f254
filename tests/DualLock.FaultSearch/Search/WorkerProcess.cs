using System.Diagnostics;

namespace DualLock.FaultSearch.Search;

/// <summary>A worker: this executable in worker mode, a child OS process known by its pid and ended by it.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private WorkerProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Pid => _process.Id;

    public static WorkerProcess Start(IEnumerable<string> arguments, string runDirectory, int index)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        }

        info.ArgumentList.Add("worker");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("The worker process did not start.");
        var log = new StreamWriter(Path.Combine(runDirectory, $"worker-{index}.log")) { AutoFlush = true };
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => Write(log, gate, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, gate, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, log);
    }

    /// <summary>Waits for the worker to exit by itself; false when it did not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    /// <summary>Ends this worker (and only it), by its pid.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        _log.Dispose();
    }

    private static void Write(StreamWriter log, Lock gate, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines after exit
            }
        }
    }
}
