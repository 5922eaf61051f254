using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace DualLock.FaultSearch.Proxy;

/// <summary>
/// A TCP proxy in front of one Redis server: the workers connect here instead of to the server, and the
/// shared <see cref="ProxyRules"/> decide which of their commands are answered with errors, delayed,
/// lost or reset.
/// </summary>
internal sealed class RespProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly ProxyRules _rules;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<ProxyConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    public RespProxy(IPEndPoint upstream, ProxyRules rules, Action<string> log)
    {
        _upstream = upstream;
        _rules = rules;
        _log = log;
        _rules.ResetAll += ResetAll;
    }

    /// <summary>Gets the "host:port" the workers connect to.</summary>
    public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void Start()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _rules.ResetAll -= ResetAll;
        await _stop.CancelAsync();
        _listener.Stop();
        ResetAll();
        await Task.WhenAny(_accepting, Task.Delay(TimeSpan.FromSeconds(2)));
        await Task.WhenAny(Task.WhenAll(_connections.Values), Task.Delay(TimeSpan.FromSeconds(2)));
        _stop.Dispose();
    }

    private void ResetAll()
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Close();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var server = new TcpClient { NoDelay = true };
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(_upstream, _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // The server is down: refuse the client the same way.
                client.Dispose();
                server.Dispose();
                continue;
            }

            var connection = new ProxyConnection(client, server, _rules, m => _log($"proxy {_upstream.Port}: {m}"));
            _connections[connection] = Task.Run(async () =>
            {
                await connection.RunAsync();
                _connections.TryRemove(connection, out _);
                await connection.DisposeAsync();
            });
        }
    }
}
