using System.Collections.Concurrent;

namespace DualLock;

/// <summary>
/// One entry per key, alive only while someone holds or waits for the key: the caller that creates it is its
/// first user, each further caller joins it (up to a limit), and the last one out removes it, so the table
/// holds only keys in use. Every per-key table of the library (the in-process lock's semaphores, the gates of
/// the reader-writer locks and semaphores, the Redis lock's turns) is one of these.
/// </summary>
/// <typeparam name="TEntry">The per-key state.</typeparam>
/// <remarks>
/// The one race: a caller finds an entry whose last user has just left but has not removed it yet. That entry
/// is final (zero users), so the caller removes it itself (removal is by key and instance, so only that entry
/// goes, whoever gets there first) and tries again; it never waits for the leaving thread.
/// </remarks>
/// <param name="create">Creates the entry of a key for <see cref="Enter(string, int)"/>; the creator is its first user.</param>
internal sealed class KeyedRegistry<TEntry>(Func<string, TEntry>? create = null)
    where TEntry : KeyedEntry
{
    private readonly ConcurrentDictionary<string, TEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>Gets the number of keys in use.</summary>
    public int Count => _entries.Count;

    /// <summary>Gets the entry of a key in use, or <see langword="null"/> (for tests and diagnostics).</summary>
    public TEntry? Find(string key) => _entries.TryGetValue(key, out var entry) ? entry : null;

    /// <summary>Registers one more user of <paramref name="key"/>, creating its entry with the registry's factory.</summary>
    /// <returns>The entry; <see langword="null"/> when it already has <paramref name="maxUsers"/> users.</returns>
    public TEntry? Enter(string key, int maxUsers)
        => Enter(key, static (k, factory) => factory(k), create ?? throw new InvalidOperationException("This registry creates its entries per call."), maxUsers);

    /// <summary>Registers one more user of <paramref name="key"/>, creating its entry with <paramref name="factory"/> from <paramref name="state"/>.</summary>
    /// <returns>The entry; <see langword="null"/> when it already has <paramref name="maxUsers"/> users.</returns>
    public TEntry? Enter<TState>(string key, Func<string, TState, TEntry> factory, TState state, int maxUsers)
    {
        while (true)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                switch (entry.TryJoin(maxUsers))
                {
                    case true:
                        return entry;
                    case false:
                        return null;
                    default:
                        _entries.TryRemove(new KeyValuePair<string, TEntry>(key, entry)); // final: help its last user remove it
                        continue;
                }
            }

            var created = factory(key, state);
            if (_entries.TryAdd(key, created))
            {
                return created;
            }
        }
    }

    /// <summary>Unregisters one user; the last one out removes the entry.</summary>
    /// <returns><see langword="true"/> when it was the last user (the key is forgotten).</returns>
    /// <exception cref="InvalidOperationException">More exits than enters.</exception>
    public bool Exit(TEntry entry)
    {
        if (!entry.Leave())
        {
            return false;
        }

        _entries.TryRemove(new KeyValuePair<string, TEntry>(entry.Key, entry));
        return true;
    }
}
