using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A mariadbd of the test's own, in a temporary data folder on a free loopback port, for tests that need
/// server options the shared server does not run with (it must stay at its defaults for everyone else).
/// Started from the binaries <c>scripts/services.sh</c> uses; stopped by its process id.
/// </summary>
public sealed class PrivateMariaDbServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private PrivateMariaDbServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Server=127.0.0.1;Port={Port};User ID=root;Database=duallock;Pooling=true;Connection Timeout=5;Default Command Timeout=30";

    public static async Task<PrivateMariaDbServer> StartAsync(params string[] serverOptions)
    {
        var mariadbd = Find("mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld");
        var installDb = Find("mariadb-install-db", "/usr/bin/mariadb-install-db", "mysql_install_db");
        if (mariadbd is null || installDb is null)
        {
            var message = "mariadbd or mariadb-install-db not found: this test starts a MariaDB of its own (apt-get install mariadb-server).";
            if (Servers.IsCi)
            {
                throw new InvalidOperationException(message);
            }

            Assert.Skip(message);
        }

        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        var server = new PrivateMariaDbServer(Directory.CreateTempSubdirectory("duallock-mariadb-").FullName, port);
        try
        {
            await server.StartAsync(mariadbd!, installDb!, serverOptions);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(string mariadbd, string installDb, string[] serverOptions)
    {
        var data = Path.Combine(_directory, "data");
        var asRoot = Environment.UserName == "root";
        var install = new List<string> { "--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve" };
        if (asRoot)
        {
            install.Add("--user=root");
        }

        using (var installer = Process.Start(Info(installDb, install)) ?? throw new InvalidOperationException("Could not start mariadb-install-db."))
        {
            var output = installer.StandardOutput.ReadToEndAsync();
            var errors = await installer.StandardError.ReadToEndAsync();
            await installer.WaitForExitAsync();
            if (installer.ExitCode != 0)
            {
                throw new InvalidOperationException($"mariadb-install-db failed ({installer.ExitCode}): {errors} {await output}");
            }
        }

        var args = new List<string>
        {
            "--no-defaults", $"--datadir={data}", $"--socket={Path.Combine(_directory, "mysqld.sock")}", $"--pid-file={Path.Combine(_directory, "mariadbd.pid")}",
            $"--tmpdir={_directory}", $"--port={Port}", "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin", "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--max-connections=100",
        };
        if (asRoot)
        {
            args.Add("--user=root");
        }

        args.AddRange(serverOptions);
        _process = Process.Start(Info(mariadbd, args)) ?? throw new InvalidOperationException("Could not start mariadbd.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var root = $"Server=127.0.0.1;Port={Port};User ID=root;Pooling=false;Connection Timeout=2";
        for (var i = 0; ; i++)
        {
            try
            {
                await using var connection = new MySqlConnection(root);
                await connection.OpenAsync();
                await using var command = new MySqlCommand("CREATE DATABASE IF NOT EXISTS duallock", connection);
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (MySqlException) when (i < 150 && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        using (var connection = new MySqlConnection(ConnectionString))
        {
            await MySqlConnection.ClearPoolAsync(connection);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private static ProcessStartInfo Info(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static string? Find(params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (Path.IsPathRooted(candidate))
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }

                continue;
            }

            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
            {
                var path = Path.Combine(dir, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }
}
