using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace UserPointApi.Tests.Infrastructure;

/// <summary>One real UserPointApi process on a free loopback port; killed on dispose.</summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>What the process printed (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The API's built DLL: <c>USERPOINTAPI_DLL</c>, else the sample's output next to this test project's output.</summary>
    public static string DllPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("USERPOINTAPI_DLL");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }

            // <artifacts>/bin/UserPointApi.Tests/<config>/ -> <artifacts>/bin/UserPointApi/<config>/UserPointApi.dll
            var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return Path.Combine(testDir.Parent!.Parent!.FullName, "UserPointApi", testDir.Name, "UserPointApi.dll");
        }
    }

    public static async Task<ApiProcess> StartAsync(string mySql, IReadOnlyDictionary<string, string>? settings = null)
    {
        var dll = DllPath;
        Assert.True(File.Exists(dll), $"The API is not built at {dll}; build the solution first (or set USERPOINTAPI_DLL).");
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url.ToString().TrimEnd('/'));
        info.Environment["ConnectionStrings__MySql"] = mySql;
        info.Environment["ConnectionStrings__Redis"] = Servers.Redis;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the API process.");
        var api = new ApiProcess(process, url);
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await api.WaitReadyAsync();
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a process expected to fail at start-up and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string mySql, IReadOnlyDictionary<string, string> settings)
    {
        await using var api = await StartUnreadyAsync(mySql, settings);
        using var timeout = new CancellationTokenSource(ReadyTimeout);
        await api._process.WaitForExitAsync(timeout.Token);
        return (api._process.ExitCode, api.Output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        _process.Dispose();
    }

    private static async Task<ApiProcess> StartUnreadyAsync(string mySql, IReadOnlyDictionary<string, string> settings)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(DllPath);
        info.ArgumentList.Add("--urls");
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        info.ArgumentList.Add(url.ToString().TrimEnd('/'));
        info.Environment["ConnectionStrings__MySql"] = mySql;
        info.Environment["ConnectionStrings__Redis"] = Servers.Redis;
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the API process.");
        var api = new ApiProcess(process, url);
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Task.CompletedTask;
        return api;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The API exited during start-up with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/health/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The API at {Url} was not ready within {ReadyTimeout.TotalSeconds} s:\n{Output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
