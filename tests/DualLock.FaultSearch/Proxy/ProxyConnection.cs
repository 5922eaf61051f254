using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace DualLock.FaultSearch.Proxy;

/// <summary>
/// One client connection through the proxy. Replies go back in command order: each command queues
/// what its reply will be (the server's, maybe delayed or lost, or an error the proxy answers itself)
/// and one writer delivers them in that order, as a real server would. A delay is counted from the
/// command's arrival, as network latency is: pipelined commands are delayed together, not one after the
/// other (a delay per reply in turn would queue a backlog that outlives the fault by tens of seconds).
/// </summary>
internal sealed class ProxyConnection(TcpClient client, TcpClient server, ProxyRules rules, Action<string> log) : IAsyncDisposable
{
    private static readonly string[] SubscribeCommands = ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"];
    private static readonly HashSet<string> ConnectionCommands = ["PING", "INFO", "ROLE", "CLIENT", "ECHO", "CONFIG", "CLUSTER", "HELLO", "AUTH", "SELECT", "SENTINEL", "SCRIPT"];

    // Bounded so that a client pipelining into a stalled connection cannot grow the proxy's memory.
    private readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(new BoundedChannelOptions(10_000) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _closed = new();
    private int _closing;

    public async Task RunAsync()
    {
        try
        {
            await Task.WhenAll(CommandsAsync(), RepliesAsync());
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or ChannelClosedException)
        {
            // A reset (by a fault or either side) ends both directions.
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Resets the connection: the client sees the socket close, as after a network failure.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        _closed.Cancel();
        _pending.Writer.TryComplete();
        try
        {
            client.Client.LingerState = new LingerOption(true, 0); // RST, not FIN: a reset, not an orderly close
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already closed by the other side
        }

        client.Dispose();
        server.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _closed.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task CommandsAsync()
    {
        var reader = new RespReader(client.GetStream());
        var upstream = server.GetStream();
        while (await reader.ReadAsync(wantArguments: true, _closed.Token) is { } command)
        {
            if (SubscribeCommands.Contains(command.Name))
            {
                // A subscription connection carries pushed messages with no command to match them to:
                // from here on it is forwarded as is (faults reach it only by a reset).
                await _pending.Writer.WriteAsync(new Pending(PendingKind.Passthrough, null, 0), _closed.Token);
                await upstream.WriteAsync(command.Raw, _closed.Token);
                await upstream.WriteAsync(reader.TakeBuffered(), _closed.Token); // the SUBSCRIBEs pipelined behind it
                await client.GetStream().CopyToAsync(upstream, _closed.Token);
                return;
            }

            var role = CommandRoles.Of(command);
            var rule = rules.Match(role);
            if (rule is { Action: ProxyAction.Error, Role: "*" } && ConnectionCommands.Contains(command.Name))
            {
                // A real server does not answer PING, INFO or ROLE with -READONLY or -OOM; doing so would make the
                // client library take the server for a replica until its next configuration check, which is a
                // fault of the proxy, not one the lock can meet in production.
                rule = null;
            }

            switch (rule?.Action ?? ProxyAction.Pass)
            {
                case ProxyAction.Error:
                    log($"{role}: -{rule!.Error.Split(' ')[0]}");
                    await _pending.Writer.WriteAsync(new Pending(PendingKind.Answer, Encoding.UTF8.GetBytes("-" + rule.Error + "\r\n"), 0), _closed.Token);
                    break;
                case ProxyAction.Reset:
                    log($"{role}: reset before forwarding");
                    Close();
                    return;
                default:
                    var kind = rule?.Action == ProxyAction.Drop ? PendingKind.Drop : PendingKind.Forward;
                    if (rule is not null)
                    {
                        log($"{role}: {rule.Action} {rule.Delay.TotalMilliseconds:0} ms");
                    }

                    var due = rule is null ? 0 : Environment.TickCount64 + (long)rule.Delay.TotalMilliseconds;
                    await _pending.Writer.WriteAsync(new Pending(kind, null, due), _closed.Token);
                    await upstream.WriteAsync(command.Raw, _closed.Token);
                    break;
            }
        }

        Close();
    }

    private async Task RepliesAsync()
    {
        var reader = new RespReader(server.GetStream());
        var downstream = client.GetStream();
        await foreach (var pending in _pending.Reader.ReadAllAsync(_closed.Token))
        {
            switch (pending.Kind)
            {
                case PendingKind.Answer:
                    await downstream.WriteAsync(pending.Answer, _closed.Token);
                    continue;
                case PendingKind.Passthrough:
                    await downstream.WriteAsync(reader.TakeBuffered(), _closed.Token); // the replies that came with the last one read
                    await server.GetStream().CopyToAsync(downstream, _closed.Token);
                    return;
            }

            var reply = await reader.ReadAsync(wantArguments: false, _closed.Token);
            if (reply is null)
            {
                break;
            }

            var wait = pending.DueTicks - Environment.TickCount64;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), _closed.Token);
            }

            if (pending.Kind == PendingKind.Drop)
            {
                Close(); // the reply was lost with the connection, after the stall above
                return;
            }

            await downstream.WriteAsync(reply.Raw, _closed.Token);
        }

        Close();
    }

    private enum PendingKind
    {
        Forward,
        Drop,
        Answer,
        Passthrough,
    }

    /// <param name="DueTicks">When the reply may go back (<see cref="Environment.TickCount64"/>): the command's arrival plus its delay; 0 for at once.</param>
    private sealed record Pending(PendingKind Kind, byte[]? Answer, long DueTicks);
}
