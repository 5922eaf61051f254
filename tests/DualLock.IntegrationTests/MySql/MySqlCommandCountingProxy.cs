using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A loopback TCP proxy in front of MariaDB that counts round trips: every client packet with sequence
/// id 0 starts a command (COM_QUERY, COM_RESET_CONNECTION, COM_PING ...), and commands the client
/// writes together before reading an answer (MySqlConnector pipelines reset + SET NAMES, and SET
/// TRANSACTION + START TRANSACTION) are one round trip. Needs an unencrypted, uncompressed connection.
/// </summary>
public sealed class MySqlCommandCountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _commands = new();
    private readonly Task _accepting;

    public MySqlCommandCountingProxy(string upstreamHost, int upstreamPort)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// Gets or sets a test of each command's description (as <see cref="TakeCommands"/> gives it): once one matches,
    /// that connection's replies stop (the server seems hung to it; the socket stays open). Default: none.
    /// </summary>
    public Func<string, bool>? HangOn { get; set; }

    /// <summary>
    /// Gets or sets a test of each command's description: once one matches, it is forwarded to the server, its reply is
    /// withheld and, <see cref="CutDelay"/> later, the client's socket is reset. The server runs the command (a COMMIT
    /// commits) while the client only sees its connection break: an outcome it cannot know. Default: none.
    /// </summary>
    public Func<string, bool>? CutAfter { get; set; }

    /// <summary>Gets or sets how long after forwarding a <see cref="CutAfter"/> command the client's socket is reset (the server's time to run it).</summary>
    public TimeSpan CutDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets or sets how many connections are forwarded; later ones are closed at once (the server seems down to them). Default: all.</summary>
    public int ForwardConnections { get; set; } = int.MaxValue;

    /// <summary>Ends every hang, for good: hung connections get the replies they were denied, and <see cref="HangOn"/> hangs nothing more.</summary>
    public void Resume() => _resume.TrySetResult();

    public IReadOnlyList<string> TakeCommands()
    {
        var taken = new List<string>();
        while (_commands.TryDequeue(out var command))
        {
            taken.Add(command);
        }

        return taken;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                if (ForwardConnections-- <= 0)
                {
                    client.Client.LingerState = new LingerOption(true, 0); // a reset, as from a server that is gone
                    client.Dispose();
                    continue;
                }

                var upstream = new TcpClient();
                await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
                var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = PumpAsync(client.GetStream(), upstream.GetStream(), hung, cut: client).ContinueWith(_ => { client.Dispose(); upstream.Dispose(); }, TaskScheduler.Default);
                _ = PumpAsync(upstream.GetStream(), client.GetStream(), hung: null, hangWhen: hung.Task);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>: client to server with <paramref name="hung"/> (commands are parsed), server to client with <paramref name="hangWhen"/>.</summary>
    private async Task PumpAsync(NetworkStream from, NetworkStream to, TaskCompletionSource? hung, Task? hangWhen = null, TcpClient? cut = null)
    {
        var count = hung is not null;
        var buffer = new byte[64 * 1024];
        var header = new byte[4];
        var headerFill = 0;
        long payloadLeft = 0;
        var capture = new List<byte>();
        try
        {
            int read;
            var cutNow = false;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (count)
                {
                    var started = new List<string>();
                    Parse(buffer.AsSpan(0, read), header, ref headerFill, ref payloadLeft, capture, started);
                    if (started.Count > 0)
                    {
                        _commands.Enqueue(string.Join(" + ", started));
                        if (HangOn is { } hangOn && started.Exists(c => hangOn(c)))
                        {
                            hung!.TrySetResult();
                        }

                        if (CutAfter is { } cutAfter && started.Exists(c => cutAfter(c)))
                        {
                            hung!.TrySetResult(); // the server's reply is withheld
                            cutNow = true;
                        }
                    }
                }

                if (hangWhen?.IsCompleted == true)
                {
                    await _resume.Task.WaitAsync(_stop.Token); // hung: read nothing more, answer nothing, until resumed
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (cutNow)
                {
                    await Task.Delay(CutDelay, _stop.Token);
                    cut!.Client.LingerState = new LingerOption(true, 0); // a reset: the client's read fails at once
                    cut.Client.Close();
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            to.Socket.Shutdown(SocketShutdown.Send);
        }
    }

    private static void Parse(ReadOnlySpan<byte> data, byte[] header, ref int headerFill, ref long payloadLeft, List<byte> capture, List<string> started)
    {
        while (!data.IsEmpty)
        {
            if (payloadLeft == 0 && headerFill < 4)
            {
                header[headerFill++] = data[0];
                data = data[1..];
                if (headerFill == 4)
                {
                    payloadLeft = header[0] | (header[1] << 8) | (header[2] << 16);
                    capture.Clear();
                    if (payloadLeft == 0)
                    {
                        headerFill = 0;
                    }
                }

                continue;
            }

            var take = (int)Math.Min(payloadLeft, data.Length);
            if (header[3] == 0 && capture.Count < 120)
            {
                capture.AddRange(data[..Math.Min(take, 120 - capture.Count)].ToArray());
            }

            payloadLeft -= take;
            data = data[take..];
            if (payloadLeft == 0)
            {
                if (header[3] == 0)
                {
                    started.Add(Describe(capture));
                }

                headerFill = 0;
            }
        }
    }

    private static string Describe(List<byte> payload)
        => payload.Count == 0 ? "?" : payload[0] switch
        {
            0x03 => "QUERY " + Encoding.UTF8.GetString(payload.Skip(1).ToArray()),
            0x0e => "PING",
            0x1f => "RESET_CONNECTION",
            0x01 => "QUIT",
            var other => $"COMMAND 0x{other:x2}",
        };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
