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
    /// <param name="options">The name, default wait and local queue limit, as for the in-process lock. Default: <see cref="ReaderWriterLockOptions"/> defaults.</param>
    /// <param name="redisOptions">The lease, renewal, key prefix, call bound and recheck interval; <see cref="LockStageOptions.Name"/> names the stage. Default: <see cref="RedisReaderWriterLockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <returns>The reader-writer lock; share one per lock domain and process.</returns>
    /// <exception cref="ArgumentException">Either options are invalid; the message lists every problem.</exception>
    public static ReaderWriterLockStrategy Create(
        IConnectionMultiplexer redis,
        ReaderWriterLockOptions? options = null,
        RedisReaderWriterLockOptions? redisOptions = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var validated = (RedisReaderWriterLockOptions)(redisOptions ?? new RedisReaderWriterLockOptions()).Copy();
        OptionChecks.ThrowIfAny(validated.Validate(), $"Redis reader-writer lock, stage '{validated.Name}'", nameof(redisOptions));
        var lockOptions = ReaderWriterLockStrategy.CopyOf(options ?? new ReaderWriterLockOptions());
        var settings = new RedisGateSettings(validated, validated.RecheckInterval, lockOptions.MaxQueueLength);
        var time = timeProvider ?? TimeProvider.System;
        var shared = new RedisGateShared(redis, settings, int.MaxValue, time, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis"));
        return ReaderWriterLockStrategy.Compose(
            lockOptions,
            _ => new RedisGateStage(validated.Name, shared, RedisGateKind.Read),
            _ => new RedisGateStage(validated.Name, shared, RedisGateKind.Write),
            time,
            loggerFactory);
    }
}
