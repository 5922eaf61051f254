using System.Security.Cryptography;
using System.Text;

namespace DualLock.Redis;

/// <summary>The Lua scripts: every key in <c>KEYS[]</c>, so they run on Redis Cluster too.</summary>
internal static class RedisLockScripts
{
    /// <summary>
    /// Lua: <c>next_fence(key)</c>, the one definition of the fencing token every script that issues one
    /// prepends: max(INCR key, Redis TIME in microseconds), stored back when the clock is ahead (see
    /// <see cref="Acquire"/> for why that keeps tokens increasing across Redis data loss).
    /// </summary>
    public const string NextFenceFunction = """
        local function next_fence(key)
          local fence = redis.call('incr', key)
          local t = redis.call('time')
          local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          if fence < now then
            fence = now
            redis.call('set', key, string.format('%d', now))
          end
          return fence
        end

        """;

    /// <summary>
    /// KEYS: lock, fence, next. ARGV: token, lease ms, contender id, reservation ms (0: do not reserve).
    /// Returns {1, fencing token} when acquired, else {0, the lock's remaining ms} or {0, -1} when it is free but another process's turn.
    /// A waiting process reserves the next turn, and a turn reserved by another process is honoured,
    /// so a process that keeps re-acquiring cannot starve the others.
    /// </summary>
    /// <remarks>
    /// The fencing token is max(INCR fence, Redis TIME in microseconds), stored back when the clock is
    /// ahead. A counter lost with Redis' data (restart without persistence, a failover that lost the
    /// last INCR, FLUSHALL, eviction) so restarts above every token issued before, without any other
    /// state that could be lost along with it. It holds while tokens do not run ahead of the clock by
    /// more than the outage lasted (one acquire and release per key take far more than a microsecond)
    /// and the clock does not go backwards (a failover to a host whose clock is behind could reissue).
    /// TIME before a write is allowed because scripts replicate their effects (Redis 5+), not their text.
    /// Microseconds since 1970 (~1.8e15) are exact in Lua's doubles (below 2^53); %d keeps every digit.
    /// </remarks>
    public const string Acquire = NextFenceFunction + """
        local n = redis.call('get', KEYS[3])
        if (not n or n == ARGV[3]) and redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          if n then redis.call('del', KEYS[3]) end
          return {1, next_fence(KEYS[2])}
        end
        if ARGV[4] ~= '0' then
          if not n then
            redis.call('set', KEYS[3], ARGV[3], 'PX', ARGV[4])
          elseif n == ARGV[3] then
            redis.call('pexpire', KEYS[3], ARGV[4])
          end
        end
        local ttl = redis.call('pttl', KEYS[1])
        if ttl < 0 then ttl = -1 end
        return {0, ttl}
        """;

    /// <summary>KEYS: lock. ARGV: token, channel. Deletes the lock only when it still holds the token, then wakes waiters. Returns 1 or 0.</summary>
    public const string Release = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          redis.call('del', KEYS[1])
          redis.call('publish', ARGV[2], '1')
          return 1
        end
        return 0
        """;

    /// <summary>
    /// KEYS: lock, next, fence. ARGV: token, channel, lease ms, contender id. At the end of a hand-off period:
    /// when no other process has reserved the next turn, keeps the lock (extends it) and returns a new fence
    /// (positive), so local waiters go on without a release and a re-acquire, under tokens above the last
    /// period's; otherwise releases it, wakes the other process's waiters and returns 0. Returns -1 when the
    /// lock no longer holds the token.
    /// </summary>
    public const string KeepUnlessWanted = NextFenceFunction + """
        if redis.call('get', KEYS[1]) ~= ARGV[1] then return -1 end
        local n = redis.call('get', KEYS[2])
        if not n or n == ARGV[4] then
          redis.call('pexpire', KEYS[1], ARGV[3])
          return next_fence(KEYS[3])
        end
        redis.call('del', KEYS[1])
        redis.call('publish', ARGV[2], '1')
        return 0
        """;

    /// <summary>KEYS: next. ARGV: contender id. A process whose waiters all gave up deletes its next-turn reservation (only its own). Returns 1 or 0.</summary>
    public const string ForgoTurn = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          redis.call('del', KEYS[1])
          return 1
        end
        return 0
        """;

    /// <summary>KEYS: lock. ARGV: token, lease ms. Extends the lease only when the lock still holds the token. Returns 1 or 0.</summary>
    public const string Extend = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          return redis.call('pexpire', KEYS[1], ARGV[2])
        end
        return 0
        """;

    /// <summary>
    /// KEYS: fence. ARGV: token. Raises the counter to at least the token (Redlock: the next holder's quorum sees it).
    /// The comparison is on doubles, exact for every token <see cref="Acquire"/> issues (below 2^53); the token is stored as sent.
    /// </summary>
    public const string RaiseFence = """
        local v = tonumber(redis.call('get', KEYS[1]) or '0')
        if v < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]) end
        return 1
        """;

    /// <summary>
    /// The SHA1 of <see cref="Acquire"/>, the name Redis knows it by. The lock's hot path sends EVALSHA with it
    /// directly (StackExchange.Redis' text overload wraps every call in a state machine of its own and hashes the
    /// text to find it); a server without the script answers NOSCRIPT (<see cref="RedisCall.IsNoScript"/>), and
    /// the caller sends the text once, which loads it.
    /// </summary>
    public static readonly byte[] AcquireHash = Sha1(Acquire);

    /// <summary>The SHA1 of <see cref="Release"/> (see <see cref="AcquireHash"/>).</summary>
    public static readonly byte[] ReleaseHash = Sha1(Release);

#pragma warning disable CA5350 // SHA1 is how Redis names a script, not a security measure
    private static byte[] Sha1(string script) => SHA1.HashData(Encoding.UTF8.GetBytes(script));
#pragma warning restore CA5350
}
