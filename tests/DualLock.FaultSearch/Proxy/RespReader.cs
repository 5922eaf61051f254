using System.Text;

namespace DualLock.FaultSearch.Proxy;

/// <summary>
/// Reads whole RESP values off a stream, as the raw bytes that carried them (so the proxy forwards them
/// unchanged) and, for commands, as their arguments. RESP2 and the RESP3 types, nested to any depth.
/// </summary>
internal sealed class RespReader(Stream stream)
{
    // A reply larger than this is not something the lock sends or receives; refusing it bounds the memory per connection.
    private const int MaxFrame = 16 * 1024 * 1024;

    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>Reads one value; returns null at the end of the stream.</summary>
    public async Task<RespFrame?> ReadAsync(bool wantArguments, CancellationToken cancellationToken)
    {
        var arguments = wantArguments ? new List<byte[]>() : null;
        while (true)
        {
            var length = TryMeasure(_start, arguments, out var measured);
            if (length >= 0)
            {
                var raw = _buffer.AsSpan(_start, length).ToArray();
                _start += length;
                return new RespFrame(raw, measured ?? []);
            }

            arguments?.Clear();
            if (!await FillAsync(cancellationToken))
            {
                return null;
            }

        }
    }

    /// <summary>
    /// Takes the bytes read off the stream but not yet returned as values. Whoever copies the stream on as raw bytes
    /// from here on must send these first: a client pipelines SUBSCRIBEs after its handshake (and on a reconnect,
    /// one per channel) and the server answers in one read, so they are often already here.
    /// </summary>
    public ReadOnlyMemory<byte> TakeBuffered()
    {
        var buffered = _buffer.AsMemory(_start, _end - _start).ToArray();
        _start = _end;
        return buffered;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxFrame)
            {
                throw new InvalidDataException($"A RESP value exceeds {MaxFrame} bytes.");
            }

            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    /// <summary>Length of the complete value at <paramref name="at"/>, or -1 when more bytes are needed.</summary>
    private int TryMeasure(int at, List<byte[]>? arguments, out List<byte[]>? measured)
    {
        measured = arguments;
        var end = Value(at, arguments, depth: 0);
        return end < 0 ? -1 : end - at;
    }

    private int Value(int at, List<byte[]>? arguments, int depth)
    {
        if (at >= _end)
        {
            return -1;
        }

        var type = (char)_buffer[at];
        var lineEnd = LineEnd(at);
        if (lineEnd < 0)
        {
            return -1;
        }

        var next = lineEnd + 2;
        switch (type)
        {
            case '+' or '-' or ':' or '_' or '#' or ',' or '(':
                return next;
            case '$' or '!' or '=':
                var size = Number(at + 1, lineEnd);
                if (size < 0)
                {
                    return next; // null bulk string
                }

                if (next + size + 2 > _end)
                {
                    return -1;
                }

                if (depth == 1)
                {
                    arguments?.Add(_buffer.AsSpan(next, (int)size).ToArray());
                }

                return next + (int)size + 2;
            case '*' or '~' or '>' or '%' or '|':
                var count = Number(at + 1, lineEnd);
                if (type is '%' or '|')
                {
                    count *= 2;
                }

                for (var i = 0; i < count; i++)
                {
                    next = Value(next, arguments, depth + 1);
                    if (next < 0)
                    {
                        return -1;
                    }
                }

                return next;
            default:
                // An inline command (telnet style): its words are its arguments.
                if (depth == 0 && arguments is not null)
                {
                    foreach (var word in Encoding.ASCII.GetString(_buffer, at, lineEnd - at).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        arguments.Add(Encoding.ASCII.GetBytes(word));
                    }
                }

                return next;
        }
    }

    private int LineEnd(int from)
    {
        var index = _buffer.AsSpan(from, _end - from).IndexOf("\r\n"u8);
        return index < 0 ? -1 : from + index;
    }

    private long Number(int from, int to)
    {
        long value = 0;
        var negative = false;
        for (var i = from; i < to; i++)
        {
            var c = _buffer[i];
            if (c == '-')
            {
                negative = true;
            }
            else
            {
                value = (value * 10) + (c - '0');
            }
        }

        return negative ? -value : value;
    }
}

/// <summary>One RESP value: its bytes on the wire and, for a command, its arguments (name first).</summary>
internal sealed record RespFrame(byte[] Raw, List<byte[]> Arguments)
{
    public string Name => Arguments.Count == 0 ? string.Empty : Encoding.ASCII.GetString(Arguments[0]).ToUpperInvariant();

    public string Argument(int index) => index < Arguments.Count ? Encoding.UTF8.GetString(Arguments[index]) : string.Empty;
}
