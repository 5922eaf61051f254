namespace UserPointApi.Tests.Infrastructure;

/// <summary>Several API processes sharing one database and Redis: how the comparisons run.</summary>
public sealed class ApiCluster : IAsyncDisposable
{
    private readonly List<ApiProcess> _processes;

    private ApiCluster(List<ApiProcess> processes)
    {
        _processes = processes;
        Clients = processes.Select(p => new ApiClient(ApiFixture.Http, p.Url)).ToArray();
    }

    public IReadOnlyList<ApiClient> Clients { get; }

    public string Output => string.Join("\n---\n", _processes.Select(p => p.Output));

    public static async Task<ApiCluster> StartAsync(string mySql, int count, IReadOnlyDictionary<string, string> settings)
    {
        var starts = Enumerable.Range(0, count).Select(_ => ApiProcess.StartAsync(mySql, settings)).ToList();
        try
        {
            return new ApiCluster([.. await Task.WhenAll(starts)]);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }
}
