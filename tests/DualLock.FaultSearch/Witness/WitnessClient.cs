using System.Net.Sockets;
using System.Text;

namespace DualLock.FaultSearch.Witness;

/// <summary>A worker client's line to the witness: one request at a time, each acknowledged, each bounded.</summary>
internal sealed class WitnessClient : IAsyncDisposable
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);
    private readonly TcpClient _client;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private WitnessClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public static async Task<WitnessClient> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        return new WitnessClient(client);
    }

    /// <summary>Tells the witness a call is inside <paramref name="key"/> since <paramref name="enteredAt"/>.</summary>
    /// <param name="enteredAt">
    /// <see cref="Environment.TickCount64"/> when the work began (a system-wide monotonic clock, the witness's too): on a
    /// loaded machine this line can arrive long after, and whether the holder entered inside a fault's window is a
    /// matter of when it entered, not of when the witness heard of it.
    /// </param>
    public Task EnterAsync(string key, string callId, string kind, long enteredAt)
        => SendAsync(FormattableString.Invariant($"E {key} {callId} {kind} {enteredAt}\n"));

    public Task ExitAsync(string key, string callId) => SendAsync($"X {key} {callId}\n");

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private async Task SendAsync(string line)
    {
        // Not the work's cancellation token: an enter must be matched by its exit even when the work is cancelled.
        using var timeout = new CancellationTokenSource(AckTimeout);
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(line), timeout.Token);
        if (await _reader.ReadLineAsync(timeout.Token) != "K")
        {
            throw new IOException("The witness did not acknowledge.");
        }
    }
}
