using System.Collections.Concurrent;

namespace DualLock;

/// <summary>
/// One <see cref="SemaphoreSlim"/> per key, alive only while someone holds or waits for the key:
/// the entry is removed when its last user leaves, so idle keys cost no memory.
/// </summary>
internal sealed class KeyedSemaphores
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Gets the number of keys currently held or waited for.</summary>
    public int Count => _entries.Count;

    /// <summary>Registers one more user of <paramref name="key"/>; returns <see langword="null"/> when it already has <paramref name="maxUsers"/>.</summary>
    public Entry? Enter(string key, int maxUsers)
    {
        while (true)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                lock (entry)
                {
                    // Zero users means the entry is being removed: take a fresh one instead.
                    if (entry.Users == 0)
                    {
                        continue;
                    }

                    if (entry.Users >= maxUsers)
                    {
                        return null;
                    }

                    entry.Users++;
                    return entry;
                }
            }

            var created = new Entry(key);
            if (_entries.TryAdd(key, created))
            {
                return created;
            }
        }
    }

    /// <summary>Unregisters one user; the last one out removes the entry.</summary>
    public void Exit(Entry entry)
    {
        lock (entry)
        {
            if (--entry.Users == 0)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(entry.Key, entry));
            }
        }
    }

    internal sealed class Entry(string key)
    {
        public string Key { get; } = key;

        // Async waiters of SemaphoreSlim are served first come, first served, and a release hands
        // the slot to the oldest waiter directly, so a caller arriving later cannot barge ahead.
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; } = 1;
    }
}
