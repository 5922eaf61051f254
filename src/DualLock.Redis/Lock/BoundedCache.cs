using System.Collections.Concurrent;

namespace DualLock.Redis;

/// <summary>
/// A concurrent cache that never holds much more than <see cref="Capacity"/> entries: when an add
/// passes the bound, everything is dropped and the keys still in use come back on their next miss.
/// </summary>
/// <remarks>
/// Clearing rather than evicting one entry keeps a hit to one dictionary read, with no bookkeeping per
/// hit; a working set larger than the bound then costs a miss per call, as if there were no cache.
/// Concurrent adds right after a clear may go uncounted, so the bound can be passed by at most the
/// number of callers adding at that moment, until the next clear.
/// </remarks>
internal sealed class BoundedCache<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _items = new();
    private int _count;

    public BoundedCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Gets the number of entries counted since the last clear (cheap, unlike the dictionary's own count).</summary>
    public int Count => Volatile.Read(ref _count);

    public TValue GetOrAdd<TState>(TKey key, Func<TKey, TState, TValue> create, TState state)
    {
        if (_items.TryGetValue(key, out var value))
        {
            return value;
        }

        value = create(key, state);
        if (!_items.TryAdd(key, value))
        {
            return _items.TryGetValue(key, out var other) ? other : value;
        }

        if (Interlocked.Increment(ref _count) > Capacity)
        {
            _items.Clear();
            Volatile.Write(ref _count, 0);
        }

        return value;
    }
}
