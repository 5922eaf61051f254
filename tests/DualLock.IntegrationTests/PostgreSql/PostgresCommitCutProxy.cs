using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// A loopback TCP proxy in front of PostgreSQL that reads the client's messages (wire protocol 3) and can cut a
/// connection right after its COMMIT reached the server: the COMMIT is forwarded, every reply from then on is
/// withheld and, <see cref="CutDelay"/> later, both sockets are closed (the client's with a reset). The server
/// commits; the client only sees its connection break. Needs an unencrypted connection (SSL Mode=Disable).
/// </summary>
/// <remarks>
/// What Npgsql 8 sends for the transaction stage (seen through this proxy): BEGIN as a simple Query ('Q') ahead of the
/// work's first statement, the work's statements and the stage's <c>SELECT 1; COMMIT</c> batch as extended-protocol
/// Parse ('P') messages, so COMMIT is matched in both.
/// </remarks>
public sealed class PostgresCommitCutProxy : IAsyncDisposable
{
    /// <summary>The first message's code when the client asks for TLS or GSS encryption before its startup message.</summary>
    private const int SslRequest = 80877103;
    private const int GssEncRequest = 80877104;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _queries = new();
    private readonly Task _accepting;
    private int _cuts;

    public PostgresCommitCutProxy(string upstreamHost, int upstreamPort)
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets or sets a value indicating whether a connection is cut after its COMMIT was forwarded. Default: <see langword="false"/> (a plain proxy).</summary>
    public bool CutAfterCommit { get; set; }

    /// <summary>Gets or sets how long after forwarding the COMMIT the sockets are closed (the server's time to commit).</summary>
    public TimeSpan CutDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets the number of connections cut after their COMMIT.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Every statement the clients sent, in order: "Q text" for a simple query, "P text" for an extended Parse.</summary>
    public IReadOnlyList<string> Queries => [.. _queries];

    /// <summary>The statement is COMMIT itself (not one that mentions it), as Npgsql sends it in a simple Query or a Parse.</summary>
    public static bool IsCommit(string query) => query.Length > 2 && query[2..].Trim().TrimEnd(';').Trim().Equals("COMMIT", StringComparison.OrdinalIgnoreCase);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var upstream = new TcpClient();
                await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
                var connection = new Connection(client, upstream);
                _ = ClientToServerAsync(connection).ContinueWith(_ => connection.Close(), TaskScheduler.Default);
                _ = ServerToClientAsync(connection).ContinueWith(_ => connection.Close(), TaskScheduler.Default);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ClientToServerAsync(Connection connection)
    {
        var from = connection.Client.GetStream();
        var to = connection.Upstream.GetStream();
        var buffer = new byte[64 * 1024];
        var parser = new FrontendParser();
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                var commit = false;
                foreach (var query in parser.Feed(buffer.AsSpan(0, read)))
                {
                    _queries.Enqueue(query);
                    commit |= IsCommit(query);
                }

                if (commit && CutAfterCommit)
                {
                    connection.WithholdReplies = true; // set before the COMMIT leaves: no answer to it can slip through
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (commit && CutAfterCommit)
                {
                    await Task.Delay(CutDelay, _stop.Token);
                    Interlocked.Increment(ref _cuts);
                    return; // the continuation closes both sockets
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private async Task ServerToClientAsync(Connection connection)
    {
        var from = connection.Upstream.GetStream();
        var to = connection.Client.GetStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (!connection.WithholdReplies)
                {
                    await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private sealed class Connection(TcpClient client, TcpClient upstream)
    {
        private int _closed;
        private volatile bool _withholdReplies;

        public TcpClient Client { get; } = client;

        public TcpClient Upstream { get; } = upstream;

        /// <summary>Gets or sets a value indicating whether the server's replies are dropped instead of forwarded.</summary>
        public bool WithholdReplies
        {
            get => _withholdReplies;
            set => _withholdReplies = value;
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1)
            {
                return;
            }

            try
            {
                Client.Client.LingerState = new LingerOption(true, 0); // a reset: the client's read fails at once
            }
            catch (ObjectDisposedException)
            {
            }

            Client.Dispose();
            Upstream.Dispose();
        }
    }

    /// <summary>
    /// Splits the client's byte stream into messages: untyped ones (length + code) until the startup message, typed
    /// ones (type byte + length) after it. Reports the text of each simple Query ('Q') and extended Parse ('P').
    /// </summary>
    private sealed class FrontendParser
    {
        private readonly List<byte> _pending = [];
        private bool _started;

        public List<string> Feed(ReadOnlySpan<byte> data)
        {
            _pending.AddRange(data.ToArray());
            var queries = new List<string>();
            while (true)
            {
                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending);
                var headerLength = _started ? 5 : 4;
                if (span.Length < headerLength)
                {
                    return queries;
                }

                var length = BinaryPrimitives.ReadInt32BigEndian(span[(headerLength - 4)..]);
                var total = (headerLength - 4) + length;
                if (span.Length < total)
                {
                    return queries;
                }

                if (!_started)
                {
                    var code = BinaryPrimitives.ReadInt32BigEndian(span[4..]);
                    _started = code is not (SslRequest or GssEncRequest); // anything else is the startup message
                }
                else if (span[0] is (byte)'Q' or (byte)'P')
                {
                    var body = span[5..total];
                    if (span[0] == (byte)'P')
                    {
                        body = body[(body.IndexOf((byte)0) + 1)..]; // skip the statement name
                    }

                    var end = body.IndexOf((byte)0);
                    queries.Add((char)span[0] + " " + Encoding.UTF8.GetString(end < 0 ? body : body[..end]));
                }

                _pending.RemoveRange(0, total);
            }
        }
    }
}
