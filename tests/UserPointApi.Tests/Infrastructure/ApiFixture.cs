namespace UserPointApi.Tests.Infrastructure;

/// <summary>A throwaway database and one API process on it (strategy from <see cref="Settings"/>).</summary>
public class ApiFixture : IAsyncLifetime
{
    private static readonly HttpClient SharedHttp = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { Timeout = TimeSpan.FromSeconds(60) };
    private TestDatabase? _database;
    private ApiProcess? _api;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("Not started.");

    public ApiClient Client { get; private set; } = null!;

    public static HttpClient Http => SharedHttp;

    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _api = await ApiProcess.StartAsync(_database.ConnectionString, Settings);
        Client = new ApiClient(SharedHttp, _api.Url);
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
