using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DualLock.FaultSearch.Witness;

/// <summary>
/// The independent witness: not the lock, a TCP server in the coordinator. A client tells it "enter"
/// right after the lock let it in and "exit" right before its work returns, and waits for the ack
/// each time, so what the witness sees in its one sequence happened in that order. At every enter
/// it records who else was inside the same key; the checker judges those snapshots.
/// </summary>
internal sealed class WitnessServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<WitnessCall>> _inside = [];
    private readonly Dictionary<string, WitnessCall> _calls = [];
    private readonly List<WitnessSnapshot> _crowds = [];
    /// <summary>How many faults are taking each key now: faults on one key overlap (a burst, a delete waiting for a long holder), and the first to end must not close the others' window.</summary>
    private readonly Dictionary<string, int> _revoking = [];
    /// <summary>When the last fault's window on each key closed (<see cref="Environment.TickCount64"/>).</summary>
    private readonly Dictionary<string, long> _revokeEnded = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private long _sequence;
    private Task _accepting = Task.CompletedTask;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Start()
    {
        _listener.Start(backlog: 512);
        _accepting = AcceptAsync();
    }

    /// <summary>
    /// A fault is about to take the lock of <paramref name="key"/> from everyone inside (its Redis key is
    /// deleted or expired): until <see cref="EndRevoke"/>, everyone inside or entering is no longer entitled to
    /// be alone, so later holders do not count against them. A window around the fault, not a moment after
    /// it: a holder that was inside at the delete and left before a later mark would otherwise be accused.
    /// </summary>
    public void BeginRevoke(string key)
    {
        lock (_gate)
        {
            _revoking[key] = _revoking.GetValueOrDefault(key) + 1;
            if (_inside.TryGetValue(key, out var inside))
            {
                foreach (var call in inside)
                {
                    call.Revoked = true;
                }
            }
        }
    }

    /// <summary>The fault is over (the key is gone): holders entering from now on are entitled again.</summary>
    public void EndRevoke(string key)
    {
        lock (_gate)
        {
            if (_revoking.TryGetValue(key, out var open) && open > 1)
            {
                _revoking[key] = open - 1;
            }
            else
            {
                _revoking.Remove(key);
            }

            _revokeEnded[key] = Environment.TickCount64;
            if (_inside.TryGetValue(key, out var inside))
            {
                foreach (var call in inside)
                {
                    call.Revoked = true; // inside while the key was taken
                }
            }
        }
    }

    /// <summary>Whether someone has been inside <paramref name="key"/> for at least <paramref name="inside"/> (a long holder).</summary>
    public bool HasHolder(string key, TimeSpan inside)
    {
        var before = Environment.TickCount64 - (long)inside.TotalMilliseconds;
        lock (_gate)
        {
            return _inside.TryGetValue(key, out var holders) && holders.Any(c => !c.Revoked && c.EnteredAt <= before);
        }
    }

    /// <summary>The witness's name of one holder in one key (a multi-key call is inside each of its keys).</summary>
    public static string Id(string callId, string key) => callId + "@" + key;

    /// <summary>Gets every call the witness saw (by <see cref="Id"/>) and every crowd of more than one entitled holder.</summary>
    public (IReadOnlyDictionary<string, WitnessCall> Calls, IReadOnlyList<WitnessSnapshot> Crowds) Result()
    {
        lock (_gate)
        {
            return (new Dictionary<string, WitnessCall>(_calls), _crowds.ToList());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAny(Task.WhenAll(_clients.Append(_accepting)), Task.Delay(TimeSpan.FromSeconds(2)));
        _stop.Dispose();
    }

    private string Handle(string line)
    {
        // "E key callId kind enteredAt" | "X key callId"; kind: x exclusive, w writer, r reader, s<permits>
        var parts = line.Split(' ');
        lock (_gate)
        {
            var key = parts[1];
            if (!_inside.TryGetValue(key, out var inside))
            {
                _inside[key] = inside = [];
            }

            if (parts[0] == "E")
            {
                var enteredAt = long.Parse(parts[4], CultureInfo.InvariantCulture);
                var call = new WitnessCall(parts[2], key, parts[3], ++_sequence, enteredAt);
                // Inside a window now, or entered before the last one closed and heard of only now (a loaded machine).
                call.Revoked = _revoking.ContainsKey(key) || enteredAt <= _revokeEnded.GetValueOrDefault(key, long.MinValue);
                _calls[Id(call.CallId, key)] = call;
                inside.Add(call);
                var entitled = inside.Where(c => !c.Revoked).Select(c => c.CallId).ToArray();
                if (entitled.Length > 1)
                {
                    _crowds.Add(new WitnessSnapshot(key, _sequence, entitled));
                }
            }
            else if (_calls.TryGetValue(Id(parts[2], key), out var call))
            {
                call.ExitSequence = ++_sequence;
                inside.Remove(call);
            }
        }

        return "K\n";
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                client.NoDelay = true;
                lock (_gate)
                {
                    _clients.RemoveAll(t => t.IsCompleted);
                    _clients.Add(ServeAsync(client));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII);
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(Handle(line)), _stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
                // the worker ended
            }
        }
    }
}

/// <summary>One call the witness saw inside a key.</summary>
internal sealed class WitnessCall(string callId, string key, string kind, long enterSequence, long enteredAt)
{
    public string CallId { get; } = callId;

    public string Key { get; } = key;

    /// <summary>Gets x (exclusive), w (writer), r (reader) or s&lt;permits&gt; (semaphore).</summary>
    public string Kind { get; } = kind;

    public long EnterSequence { get; } = enterSequence;

    /// <summary>Gets when it entered (Environment.TickCount64 in the worker, when its work began).</summary>
    public long EnteredAt { get; } = enteredAt;

    public long? ExitSequence { get; set; }

    public bool Revoked { get; set; }
}

/// <summary>The entitled holders of a key at the moment one of them entered (more than one).</summary>
internal sealed record WitnessSnapshot(string Key, long Sequence, string[] CallIds);
