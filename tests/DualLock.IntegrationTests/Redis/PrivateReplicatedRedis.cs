using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// A replicated Redis of the test's own on free loopback ports: a primary, one replica and (optionally)
/// three Sentinels with quorum 2, no persistence. A test may SIGKILL the primary, SIGSTOP the replica and
/// cut the replication link; the shared servers are never touched.
/// </summary>
internal sealed class PrivateReplicatedRedis : IAsyncDisposable
{
    public const string ServiceName = "private";

    private readonly List<Process> _processes = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("duallock-sentinel-").FullName;
    private Process? _primary;
    private Process? _replica;
    private bool _replicaPaused;

    private PrivateReplicatedRedis()
    {
    }

    public int PrimaryPort { get; private set; }

    public int ReplicaPort { get; private set; }

    public IReadOnlyList<int> SentinelPorts { get; private set; } = [];

    public string PrimaryEndpoint => $"127.0.0.1:{PrimaryPort}";

    /// <summary>Gets the StackExchange.Redis configuration that connects through the Sentinels.</summary>
    public string SentinelConfiguration => string.Join(',', SentinelPorts.Select(p => $"127.0.0.1:{p}")) + $",serviceName={ServiceName}";

    public static async Task<PrivateReplicatedRedis> StartAsync(bool sentinels)
    {
        var set = new PrivateReplicatedRedis();
        try
        {
            set.PrimaryPort = FreePort();
            set.ReplicaPort = FreePort();
            set._primary = await set.StartNodeAsync(set.PrimaryPort);
            set._replica = await set.StartNodeAsync(set.ReplicaPort, "--replicaof", "127.0.0.1", set.PrimaryPort.ToString(CultureInfo.InvariantCulture));
            await set.WaitAsync(() => InfoAsync(set.ReplicaPort, "master_link_status", "up"), "the replica did not sync");
            if (sentinels)
            {
                set.SentinelPorts = [FreePort(), FreePort(), FreePort()];
                foreach (var port in set.SentinelPorts)
                {
                    var conf = Path.Combine(set._folder, $"sentinel-{port}.conf");
                    await File.WriteAllTextAsync(conf, $"""
                        port {port}
                        bind 127.0.0.1
                        protected-mode no
                        dir "{set._folder}"
                        sentinel monitor {ServiceName} 127.0.0.1 {set.PrimaryPort} 2
                        sentinel down-after-milliseconds {ServiceName} 1000
                        sentinel failover-timeout {ServiceName} 3000
                        """);
                    await set.StartProcessAsync(port, conf, "--sentinel");
                }

                await set.WaitAsync(set.SentinelsReadyAsync, "the Sentinels did not see the replica and each other");
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGSTOP the replica: it takes nothing from the primary and acknowledges nothing.</summary>
    public void PauseReplica()
    {
        Signal(_replica!, "-STOP");
        _replicaPaused = true;
    }

    public void ResumeReplica()
    {
        if (_replicaPaused)
        {
            Signal(_replica!, "-CONT");
            _replicaPaused = false;
        }
    }

    /// <summary>Closes the primary's replication links (CLIENT KILL TYPE replica); with the replica paused it cannot reconnect, so what the primary writes next is not replicated.</summary>
    public async Task CutReplicationAsync()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{PrimaryEndpoint},allowAdmin=true");
        await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "replica");
    }

    /// <summary>SIGKILL the primary, resume a paused replica (it can only be promoted once it answers), then wait (bounded) until the Sentinels have promoted it.</summary>
    public async Task KillPrimaryAndWaitForPromotionAsync()
    {
        _primary!.Kill();
        await _primary.WaitForExitAsync(TestContext.Current.CancellationToken);
        ResumeReplica();
        await WaitAsync(() => InfoAsync(ReplicaPort, "role", "master"), "the replica was not promoted", TimeSpan.FromSeconds(30));
        await WaitAsync(
            async () =>
            {
                await using var sentinel = await SentinelAsync(SentinelPorts[0]);
                var master = await sentinel.GetServer($"127.0.0.1:{SentinelPorts[0]}").SentinelGetMasterAddressByNameAsync(ServiceName);
                return master is IPEndPoint ip && ip.Port == ReplicaPort;
            },
            "the Sentinels do not name the promoted replica",
            TimeSpan.FromSeconds(30));
    }

    /// <summary>Gets how many WAIT commands the server on <paramref name="port"/> has run (INFO commandstats).</summary>
    public static async Task<long> WaitCallsAsync(int port)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
        var stats = await admin.GetServer($"127.0.0.1:{port}").InfoRawAsync("commandstats");
        var line = stats?.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_wait:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(['=', ','])[1], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(); // SIGKILL ends a paused process too
                await process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
                // never started or already gone
            }

            process.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private Task<Process> StartNodeAsync(int port, params string[] extra)
        => StartProcessAsync(port, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", .. extra]);

    private Task<Process> StartProcessAsync(int port, params string[] args) => StartProcessAsync(port, (IEnumerable<string>)args);

    private async Task<Process> StartProcessAsync(int port, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-server.");
        _processes.Add(process);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await WaitAsync(() => Task.FromResult(Listens(port)), $"redis-server did not listen on 127.0.0.1:{port}");
        return process;
    }

    private async Task<bool> SentinelsReadyAsync()
    {
        try
        {
            foreach (var port in SentinelPorts)
            {
                await using var sentinel = await SentinelAsync(port);
                var master = (await sentinel.GetServer($"127.0.0.1:{port}").SentinelMasterAsync(ServiceName)).ToDictionary(kv => kv.Key, kv => kv.Value);
                if (master.GetValueOrDefault("num-slaves") != "1" || master.GetValueOrDefault("num-other-sentinels") != "2")
                {
                    return false;
                }
            }

            return true;
        }
        catch (RedisException)
        {
            return false; // not answering yet
        }
    }

    private static Task<ConnectionMultiplexer> SentinelAsync(int port)
    {
        var options = new ConfigurationOptions { CommandMap = CommandMap.Sentinel, AllowAdmin = true, ConnectTimeout = 1000, EndPoints = { $"127.0.0.1:{port}" } };
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    private static async Task<bool> InfoAsync(int port, string field, string expected)
    {
        try
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,connectTimeout=1000");
            var info = await admin.GetServer($"127.0.0.1:{port}").InfoRawAsync("replication");
            return info?.Split('\n').Any(l => l.TrimEnd('\r') == $"{field}:{expected}") == true;
        }
        catch (RedisConnectionException)
        {
            return false;
        }
    }

    private async Task WaitAsync(Func<Task<bool>> condition, string failure, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > (within ?? TimeSpan.FromSeconds(20)))
            {
                throw new TimeoutException($"{failure} within {(within ?? TimeSpan.FromSeconds(20)).TotalSeconds:0} s (folder {_folder}).");
            }

            await Task.Delay(50);
        }
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {process.Id} failed ({kill.ExitCode}).");
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
