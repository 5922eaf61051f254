using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The Redis names of one key's reader-writer lock or semaphore, in the exclusive lock's hash tag
/// (<c>{prefix}:{resource:id}</c>) so they share its slot and its fencing counter.
/// </summary>
internal sealed class RedisGateNames
{
    public RedisGateNames(string prefix, LockKey key, RedisGateKind kind)
    {
        var root = $"{prefix}:{{{key}}}";
        var fence = (RedisKey)(root + ":fence");
        if (kind == RedisGateKind.Permit)
        {
            Holders = root + ":sem";
            ChannelName = root + ":sem:released";
            AcquireKeys = [Holders];
        }
        else
        {
            Writer = root + ":rw:writer";
            Holders = root + ":rw:readers";
            Intent = root + ":rw:intent";
            ChannelName = root + ":rw:released";
            AcquireKeys = kind == RedisGateKind.Write ? [Writer, Holders, Intent, fence] : [Writer, Holders, Intent];
            WriterKeys = [Writer];
            IntentKeys = [Intent];
        }

        HolderKeys = [Holders];
        Channel = RedisChannel.Literal(ChannelName);
    }

    /// <summary>The writer's token, with its lease as expiry (reader-writer only).</summary>
    public RedisKey Writer { get; }

    /// <summary>The sorted set of shared holders (readers, or a semaphore's permits).</summary>
    public RedisKey Holders { get; }

    /// <summary>The writer waiting first (blocks new readers), with a short expiry (reader-writer only).</summary>
    public RedisKey Intent { get; }

    public RedisChannel Channel { get; }

    public string ChannelName { get; }

    public RedisKey[] AcquireKeys { get; }

    public RedisKey[] HolderKeys { get; }

    public RedisKey[] WriterKeys { get; } = [];

    public RedisKey[] IntentKeys { get; } = [];
}

/// <summary>What a caller of a <see cref="RedisGateStage"/> takes.</summary>
internal enum RedisGateKind
{
    /// <summary>A reader: shared with other readers.</summary>
    Read,

    /// <summary>A writer: alone, with a fencing token.</summary>
    Write,

    /// <summary>One of a semaphore's permits.</summary>
    Permit,
}
