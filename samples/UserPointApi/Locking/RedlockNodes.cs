using StackExchange.Redis;

namespace UserPointApi.Locking;

/// <summary>
/// One connection per Redlock master, from <c>ConnectionStrings:Redlock</c> (comma-separated
/// <c>host:port</c>; <c>scripts/services.sh env</c> prints it). Connected only when the
/// <c>redlock</c> strategy is used, and never aborted on a node that is down: a node that
/// does not answer counts as refusing, which is the point of a quorum.
/// </summary>
public sealed class RedlockNodes : IDisposable
{
    private readonly ConnectionMultiplexer[] _connections;

    public RedlockNodes(IConfiguration configuration)
    {
        var endpoints = (configuration.GetConnectionString("Redlock") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (endpoints.Length == 0)
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Redlock is not set (environment: ConnectionStrings__Redlock, comma-separated host:port of independent masters; scripts/services.sh env prints it).");
        }

        _connections = [.. endpoints.Select(endpoint =>
        {
            var options = ConfigurationOptions.Parse(endpoint);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 2000;
            return ConnectionMultiplexer.Connect(options);
        })];
    }

    /// <summary>Gets one connection per master, in the configured order.</summary>
    public IReadOnlyList<IConnectionMultiplexer> Connections => _connections;

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }
}
