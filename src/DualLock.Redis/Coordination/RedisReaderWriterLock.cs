using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>Creates reader-writer locks kept in Redis.</summary>
public static class RedisReaderWriterLock
{
    /// <summary>
    /// Creates a reader-writer lock per key in one Redis server (or a Redis Cluster): readers share it, a
    /// writer holds it alone with a fencing token (the exclusive lock's counter for the same key), a waiting
    /// writer blocks new readers in every process, leases are renewed and a lost one cancels the work.
    /// </summary>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="options">The name and default wait. Default: <see cref="ReaderWriterLockOptions"/> defaults.</param>
    /// <param name="redisOptions">
    /// Lease, renewal, key prefix, call bound, recheck interval and local queue limit (the hand-off options do
    /// not apply), validated here; <see cref="LockStageOptions.Name"/> names the stage. Default: <see cref="RedisLockOptions"/> defaults.
    /// </param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <returns>The strategy; share one per lock domain and process.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static ReaderWriterLockStrategy Create(
        IConnectionMultiplexer redis,
        ReaderWriterLockOptions? options = null,
        RedisLockOptions? redisOptions = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var validated = (RedisLockOptions)(redisOptions ?? new RedisLockOptions()).Copy();
        OptionChecks.ThrowIfAny(validated.Validate(), $"Redis reader-writer lock, stage '{validated.Name}'", nameof(redisOptions));
        var time = timeProvider ?? TimeProvider.System;
        var shared = new RedisGateShared(redis, validated, int.MaxValue, time, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis"));
        return ReaderWriterLockStrategy.Create(
            options ?? new ReaderWriterLockOptions(),
            _ => new RedisGateStage(validated.Name, shared, RedisGateKind.Read),
            _ => new RedisGateStage(validated.Name, shared, RedisGateKind.Write),
            time,
            loggerFactory);
    }
}
