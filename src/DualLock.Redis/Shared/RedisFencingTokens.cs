namespace DualLock.Redis;

/// <summary>
/// The lock stage's fencing token: the Redis fence (see <see cref="RedisLockScripts.NextFenceFunction"/>) times
/// <see cref="Scale"/>, plus one per local hand-off of the same lease. A later holder gets a higher token
/// without a Redis round trip per hand-off, and every token of a later Redis fence is above every token of
/// an earlier one, so the order survives Redis data loss exactly as the Redis fence does.
/// </summary>
/// <remarks>
/// Redis fences are microseconds since 1970 or above (~1.8e15): times 64 stays below <see cref="long.MaxValue"/>
/// for the next four thousand years. A lease that used its 63 local tokens is not handed on again until the
/// keep-unless-wanted round trip gives it a new Redis fence.
/// </remarks>
internal static class RedisFencingTokens
{
    /// <summary>How many tokens one Redis fence spans: the fence's own, then one per hand-off.</summary>
    public const long Scale = 64;

    /// <summary>The hand-offs one Redis fence allows (its other tokens).</summary>
    public const int LocalPerFence = (int)Scale - 1;

    /// <summary>The token of the holder that took the lock with Redis fence <paramref name="fence"/>.</summary>
    /// <exception cref="OverflowException">The fence is beyond any a Redis clock or counter reaches.</exception>
    public static long FromRedis(long fence) => checked(fence * Scale);
}
