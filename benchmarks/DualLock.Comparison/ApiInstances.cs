using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DualLock.Comparison;

/// <summary>Starts the sample API as real OS processes on loopback ports and stops them.</summary>
internal sealed class ApiInstances : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    private ApiInstances(IReadOnlyList<Uri> urls) => Urls = urls;

    public IReadOnlyList<Uri> Urls { get; }

    /// <summary>Gets the OS process id of each instance, in the order of <see cref="Urls"/> (the chaos suite pauses one).</summary>
    public IReadOnlyList<int> ProcessIds => _processes.Select(p => p.Id).ToArray();

    /// <summary>Starts the instances; their standard error goes to <paramref name="log"/> (default: this process's standard error).</summary>
    public static async Task<ApiInstances> StartAsync(
        string apiDll, int count, IReadOnlyDictionary<string, string> environment, HttpClient http, CancellationToken cancellationToken, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        var urls = Enumerable.Range(0, count).Select(_ => new Uri($"http://127.0.0.1:{FreePort()}")).ToArray();
        var instances = new ApiInstances(urls);
        try
        {
            foreach (var url in urls)
            {
                var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                info.ArgumentList.Add(apiDll);
                info.ArgumentList.Add("--urls");
                info.ArgumentList.Add(url.ToString().TrimEnd('/'));
                foreach (var (key, value) in environment)
                {
                    info.Environment[key] = value;
                }

                var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the API.");
                instances._processes.Add(process);

                // Drain the pipes so a chatty instance never blocks on a full buffer.
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (!string.IsNullOrWhiteSpace(e.Data))
                    {
                        log($"[api {url.Port}] {e.Data}");
                    }
                };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
            }

            foreach (var url in urls)
            {
                await WaitReadyAsync(http, url, instances, cancellationToken);
            }

            return instances;
        }
        catch
        {
            await instances.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        foreach (var process in _processes)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
            process.Dispose();
        }

        _processes.Clear();
    }

    private static async Task WaitReadyAsync(HttpClient http, Uri url, ApiInstances instances, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (instances._processes.Any(p => p.HasExited))
            {
                throw new InvalidOperationException("An API instance exited during start-up; see its output above.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(url, "/health/ready"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not listening yet, or a cold first answer slower than the client's timeout on a busy machine: ask again.
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"The API at {url} was not ready within 60 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
