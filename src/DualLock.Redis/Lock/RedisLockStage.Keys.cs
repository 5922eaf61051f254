namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    /// <summary>How many keys' names and settings are kept (about 1.5 KB each); past it the cache starts over.</summary>
    internal const int KeyCacheCapacity = 1024;

    private static readonly Func<LockKey, RedisLockStage, KeyEntry> NewEntry = static (key, stage) => new KeyEntry(stage, key);

    private static readonly Func<string, (RedisLockStage Stage, KeyEntry Entry), KeyTurn> NewTurn
        = static (text, s) => new KeyTurn(text, s.Entry.Names, s.Stage._redis.HashSlot(s.Entry.Names.Lock));

    private readonly BoundedCache<LockKey, KeyEntry> _keys = new(KeyCacheCapacity);

    /// <summary>Gets the number of keys whose names are cached now (for tests).</summary>
    internal int CachedKeyCount => _keys.Count;

    private KeyEntry Entry(LockKey key) => _keys.GetOrAdd(key, NewEntry, this);

    /// <summary>
    /// What the stage derives from one key, built once per hot key instead of on every acquire: its text
    /// (the local turn's key), its Redis names, the lease settings and the renewal call. Immutable. The hash
    /// slot is not kept: it is -1 until the connection has found out that the server is a cluster.
    /// </summary>
    private sealed class KeyEntry
    {
        public KeyEntry(RedisLockStage stage, LockKey key)
        {
            var names = new RedisKeyNames(stage._options.KeyPrefix, key);
            Text = key.ToString();
            Names = names;
            Settings = stage.Settings(key);
            Extend = lease => stage.ExtendAsync(stage._redis.HashSlot(names.Lock), names, lease);
        }

        public string Text { get; }

        public RedisKeyNames Names { get; }

        public LeaseSettings Settings { get; }

        public Func<RedisLease, Task<bool>> Extend { get; }
    }
}
