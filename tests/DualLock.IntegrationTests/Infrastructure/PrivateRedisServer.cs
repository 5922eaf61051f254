using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DualLock.IntegrationTests;

/// <summary>
/// A redis-server of the test's own on a free loopback port (no persistence: a restart comes back
/// empty), which an outage test may kill (SIGKILL), pause (SIGSTOP: the connection stays up and
/// nothing answers) and resume, never touching the servers other tests share.
/// </summary>
public sealed class PrivateRedisServer : IAsyncDisposable
{
    private Process? _process;

    private PrivateRedisServer(int port) => Port = port;

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<PrivateRedisServer> StartAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            var server = new PrivateRedisServer(((IPEndPoint)probe.LocalEndpoint).Port);
            probe.Stop();
            await server.RestartAsync();
            return server;
        }
    }

    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-server.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {Endpoint}.");
    }

    /// <summary>SIGKILL: the process dies at once, its sockets are closed.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGSTOP: the process hangs; connections stay open and nothing answers.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("-CONT");

    public async ValueTask DisposeAsync()
    {
        await StopAsync(); // SIGKILL ends a paused process too
        _process?.Dispose();
    }

    private void Signal(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        using var kill = Process.Start(new ProcessStartInfo("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {process.Id} failed ({kill.ExitCode}).");
        }
    }
}
