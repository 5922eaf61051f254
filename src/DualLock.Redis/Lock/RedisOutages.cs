using System.Collections.Concurrent;

namespace DualLock.Redis;

/// <summary>A known outage of the Redis server of one hash slot: since when, and the last failure seen.</summary>
internal sealed class RedisOutage(int slot, Exception cause, long since)
{
    private Exception _cause = cause;

    public int Slot { get; } = slot;

    public long Since { get; } = since;

    public Exception Cause
    {
        get => Volatile.Read(ref _cause);
        set => Volatile.Write(ref _cause, value);
    }
}

/// <summary>
/// The Redis servers this stage knows to be unavailable, by hash slot (one entry, slot -1, on a single
/// server). While an outage is known, acquires fail at once; one probe per outage decides its end.
/// </summary>
internal sealed class RedisOutages
{
    private readonly ConcurrentDictionary<int, RedisOutage> _known = new();
    private int _count;

    /// <summary>Gets the number of outages known now (cheap: read on every acquire).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The outage known longest, or <see langword="null"/>: what the stage reports as its service state.</summary>
    public RedisOutage? Oldest()
    {
        if (Count == 0)
        {
            return null;
        }

        RedisOutage? oldest = null;
        foreach (var outage in _known.Values)
        {
            if (oldest is null || outage.Since < oldest.Since)
            {
                oldest = outage;
            }
        }

        return oldest;
    }

    public RedisOutage? Find(int slot) => Volatile.Read(ref _count) > 0 && _known.TryGetValue(slot, out var outage) ? outage : null;

    /// <summary>Records an outage; returns it when it is newly known (its caller starts the one probe), else <see langword="null"/>.</summary>
    public RedisOutage? Begin(int slot, Exception cause, long now)
    {
        var outage = new RedisOutage(slot, cause, now);
        if (!_known.TryAdd(slot, outage))
        {
            return null;
        }

        Interlocked.Increment(ref _count);
        return outage;
    }

    public void End(RedisOutage outage)
    {
        if (_known.TryRemove(new KeyValuePair<int, RedisOutage>(outage.Slot, outage)))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
