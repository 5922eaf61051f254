using StackExchange.Redis;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// Three redis-servers of the test's own (never the shared Redlock nodes): a fault test may break,
/// fill, pause or restart them without disturbing other tests.
/// </summary>
internal sealed class PrivateRedlockNodes : IAsyncDisposable
{
    private readonly PrivateRedisServer[] _servers;

    private PrivateRedlockNodes(PrivateRedisServer[] servers, ConnectionMultiplexer[] connections)
    {
        _servers = servers;
        Connections = connections;
    }

    /// <summary>One connection per node, in node order; what a <see cref="DualLock.Redis.RedlockStage"/> is given.</summary>
    public ConnectionMultiplexer[] Connections { get; private set; }

    public static async Task<PrivateRedlockNodes> StartAsync()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PrivateRedisServer.StartAsync()));
        return new PrivateRedlockNodes(servers, await ConnectAllAsync(servers));
    }

    public IDatabase Node(int index) => Connections[index].GetDatabase();

    /// <summary>Stops one node (its connection stays, failing to reach it).</summary>
    public Task StopAsync(int index) => _servers[index].StopAsync();

    /// <summary>Restarts every node empty (no persistence) and connects afresh.</summary>
    public async Task RestartEmptyAsync()
    {
        foreach (var connection in Connections)
        {
            await connection.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.StopAsync();
            await server.RestartAsync();
        }

        Connections = await ConnectAllAsync(_servers);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in Connections)
        {
            await connection.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<ConnectionMultiplexer[]> ConnectAllAsync(PrivateRedisServer[] servers)
    {
        var connections = await Task.WhenAll(servers.Select(s => RedisTestKit.ConnectAsync(s.Endpoint)));
        Assert.True(connections.All(c => c.IsConnected), "a private Redlock node did not connect");
        return connections;
    }
}
