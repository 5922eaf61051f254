using System.Collections.Concurrent;

namespace DualLock.Redis;

/// <summary>
/// Acquires whose answer the client never got (the call failed or timed out while Redis hung). A hung
/// server still holds them in its socket buffer and runs them when it wakes, leaving the key locked by a
/// token nobody holds until the lease ends. The stage releases each (compare-and-delete by its own
/// token, so it can never free someone else's lock) at once, and again when the outage ends.
/// </summary>
/// <remarks>Bounded: past <see cref="Capacity"/> entries a new one is released only once and otherwise ends with its lease.</remarks>
internal sealed class AbandonedAcquires
{
    public const int Capacity = 4096;

    private readonly ConcurrentQueue<(RedisKeyNames Names, string Token)> _pending = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(RedisKeyNames names, string token)
    {
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            return;
        }

        _pending.Enqueue((names, token));
    }

    public List<(RedisKeyNames Names, string Token)> Drain()
    {
        var drained = new List<(RedisKeyNames, string)>();
        while (_pending.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _count);
            drained.Add(item);
        }

        return drained;
    }
}
