using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The Redis names of one lock key. The lock key sits in a hash tag so the lock, its fence counter
/// and its turn reservation share a Redis Cluster slot and one script may touch all three.
/// </summary>
internal sealed class RedisKeyNames
{
    public RedisKeyNames(string prefix, LockKey key)
    {
        var root = LockName(prefix, key);
        Lock = root;
        Fence = root + ":fence";
        Next = root + ":next";
        ChannelName = root + ":released";
        Channel = RedisChannel.Literal(ChannelName);
        AcquireKeys = [Lock, Fence, Next];
        LockKeys = [Lock];
        KeepKeys = [Lock, Next, Fence];
        NextKeys = [Next];
    }

    /// <summary>The lock's Redis key alone (what routes the key to its cluster slot), without the other names.</summary>
    public static string LockName(string prefix, LockKey key) => $"{prefix}:{{{key}}}";

    /// <summary>Holds the holder's token, with the lease as its expiry.</summary>
    public RedisKey Lock { get; }

    /// <summary>The fencing-token counter; never expires so tokens keep increasing.</summary>
    public RedisKey Fence { get; }

    /// <summary>The process whose turn is next (cross-process fairness), with a short expiry.</summary>
    public RedisKey Next { get; }

    /// <summary>Where releases are published so waiters wake at once.</summary>
    public RedisChannel Channel { get; }

    public string ChannelName { get; }

    public RedisKey[] AcquireKeys { get; }

    public RedisKey[] LockKeys { get; }

    /// <summary>The keys of the keep-unless-wanted script: lock, next, fence.</summary>
    public RedisKey[] KeepKeys { get; }

    public RedisKey[] NextKeys { get; }
}
