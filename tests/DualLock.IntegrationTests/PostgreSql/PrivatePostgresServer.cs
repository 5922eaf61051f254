using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// A PostgreSQL of the test's own, which it may SIGKILL and restart without touching the shared server: started,
/// killed and stopped by <c>scripts/services.sh</c> (start-postgres, kill-postgres, down) with its own services folder
/// (<c>.services-private-pg</c> in the repository, git-ignored) and port, so the script acts only on this server.
/// </summary>
public sealed class PrivatePostgresServer : IAsyncDisposable
{
    private readonly string _script;
    private readonly string _servicesDir;

    private PrivatePostgresServer(string repository, int port)
    {
        _script = Path.Combine(repository, "scripts", "services.sh");
        _servicesDir = Path.Combine(repository, ".services-private-pg");
        Port = port;
    }

    public int Port { get; }

    /// <summary>Gets the connection string with Npgsql's default pooling, as an application has it.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=duallock;Password=duallock;Database=duallock;Timeout=5;Command Timeout=30";

    /// <summary>Gets a connection string of its own (unpooled) for the test's set-up and checks, so they never share the pool under test.</summary>
    public string SideConnectionString => ConnectionString + ";Pooling=false";

    public static async Task<PrivatePostgresServer> StartAsync(int port)
    {
        var server = new PrivatePostgresServer(FindRepository(), port);
        try
        {
            await server.RunAsync("start-postgres");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL of the postmaster (a crash), then a start on the same data folder (WAL recovery).</summary>
    public async Task KillAndRestartAsync()
    {
        await RunAsync("kill-postgres");
        await RunAsync("start-postgres");
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("down"); // fast shutdown of this folder's server only, by its pid file
        using var pooled = new NpgsqlConnection(ConnectionString);
        NpgsqlConnection.ClearPool(pooled);
    }

    private async Task RunAsync(string command)
    {
        var info = new ProcessStartInfo(_script, command)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };

        // The shared servers' environment (eval "$(services.sh env)") names their port: both are set here.
        info.Environment["DUALLOCK_SERVICES_DIR"] = _servicesDir;
        info.Environment["DUALLOCK_POSTGRES_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("scripts/services.sh did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/services.sh {command} exited {process.ExitCode}: {await errors} {await output}");
        }
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "services.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"scripts/services.sh not found above {AppContext.BaseDirectory}.");
    }
}
