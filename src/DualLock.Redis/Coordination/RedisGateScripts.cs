namespace DualLock.Redis;

/// <summary>
/// The Lua scripts of the Redis reader-writer lock and semaphore; every key in <c>KEYS[]</c> (one hash tag), so they run on Redis Cluster too.
/// </summary>
/// <remarks>
/// Shared holders (readers, permits) live in a sorted set: member = the holder's token, score = when its
/// lease ends in Redis <c>TIME</c> ms. Expired members are purged before anything is counted, so the permits
/// of a holder that died come back when its lease ends, without any client's clock. The writer is a
/// plain string with a PX lease, released and extended by <see cref="RedisLockScripts.Release"/> and
/// <see cref="RedisLockScripts.Extend"/>. TIME before a write is allowed: scripts replicate their effects (Redis 5+).
/// </remarks>
internal static class RedisGateScripts
{
    /// <summary>
    /// KEYS: writer, readers, intent. ARGV: token, lease ms. A reader is admitted when no writer holds the key
    /// and no writer waits for it (the intent), so a writer is never starved by readers that keep coming.
    /// Returns {1, 0}, or {0, ms until a retry is worth it (-1: unknown)}.
    /// </summary>
    public const string ReadAcquire = """
        if redis.call('exists', KEYS[1]) == 1 or redis.call('exists', KEYS[3]) == 1 then
          local ttl = redis.call('pttl', KEYS[1])
          if ttl < 0 then ttl = redis.call('pttl', KEYS[3]) end
          if ttl < 0 then ttl = -1 end
          return {0, ttl}
        end
        local t = redis.call('time')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('zremrangebyscore', KEYS[2], '-inf', now)
        redis.call('zadd', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
        if redis.call('pttl', KEYS[2]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[2], ARGV[2]) end
        return {1, 0}
        """;

    /// <summary>
    /// KEYS: writer, readers, intent, fence. ARGV: token, lease ms, intent ms (0: do not announce).
    /// Admits the writer when nobody holds the key and no other writer announced itself first; otherwise
    /// announces this writer (the intent, which blocks new readers) unless another one already has.
    /// Returns {1, fencing token} or {0, ms until a retry is worth it (-1: unknown)}.
    /// The fencing token is the exclusive lock's: max(INCR fence, Redis TIME in µs), on the same counter.
    /// </summary>
    public const string WriteAcquire = RedisLockScripts.NextFenceFunction + """
        local t = redis.call('time')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local i = redis.call('get', KEYS[3])
        if redis.call('exists', KEYS[1]) == 0 and (not i or i == ARGV[1]) then
          redis.call('zremrangebyscore', KEYS[2], '-inf', now)
          if redis.call('zcard', KEYS[2]) == 0 then
            redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
            if i then redis.call('del', KEYS[3]) end
            return {1, next_fence(KEYS[4])}
          end
        end
        if ARGV[3] ~= '0' then
          if not i then
            redis.call('set', KEYS[3], ARGV[1], 'PX', ARGV[3])
          elseif i == ARGV[1] then
            redis.call('pexpire', KEYS[3], ARGV[3])
          end
        end
        local ttl = redis.call('pttl', KEYS[1])
        if ttl < 0 then
          local first = redis.call('zrange', KEYS[2], 0, 0, 'WITHSCORES')
          if first[2] then ttl = tonumber(first[2]) - now else ttl = -1 end
        end
        return {0, ttl}
        """;

    /// <summary>
    /// KEYS: holders. ARGV: token, lease ms, permits. Admits a semaphore holder while fewer than permits hold the key.
    /// Returns {1, 0} or {0, ms until the earliest lease ends}.
    /// </summary>
    public const string PermitAcquire = """
        local t = redis.call('time')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('zremrangebyscore', KEYS[1], '-inf', now)
        if redis.call('zcard', KEYS[1]) < tonumber(ARGV[3]) then
          redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
          if redis.call('pttl', KEYS[1]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[1], ARGV[2]) end
          return {1, 0}
        end
        local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
        return {0, tonumber(first[2]) - now}
        """;

    /// <summary>KEYS: holders. ARGV: token, lease ms. Extends a shared holder's lease while it still holds (not expired). Returns 1 or 0.</summary>
    public const string SharedExtend = """
        local t = redis.call('time')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local s = redis.call('zscore', KEYS[1], ARGV[1])
        if not s or tonumber(s) <= now then return 0 end
        redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
        if redis.call('pttl', KEYS[1]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[1], ARGV[2]) end
        return 1
        """;

    /// <summary>
    /// KEYS: holders. ARGV: token, channel, '1' to publish on every release (a semaphore) or '0' only when the
    /// last holder leaves (readers: only a writer waits for that). Returns 1 when it held, else 0.
    /// </summary>
    public const string SharedRelease = """
        if redis.call('zrem', KEYS[1], ARGV[1]) == 0 then return 0 end
        if ARGV[3] == '1' or redis.call('zcard', KEYS[1]) == 0 then redis.call('publish', ARGV[2], '1') end
        return 1
        """;

    /// <summary>KEYS: intent. ARGV: token, channel. A writer that gave up withdraws its intent (only its own) and wakes the readers it held back.</summary>
    public const string WithdrawIntent = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
          redis.call('del', KEYS[1])
          redis.call('publish', ARGV[2], '1')
          return 1
        end
        return 0
        """;
}
