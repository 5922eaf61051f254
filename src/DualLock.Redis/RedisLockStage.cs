using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// A lock per key in one Redis server (or a Redis Cluster): atomic acquire that issues a fencing
/// token, compare-token release and renewal, a renewal watchdog, release messages that wake waiters,
/// and a first-come-first-served queue per key inside the process with bounded local hand-off.
/// </summary>
/// <remarks>
/// Redis keys for <c>user-point:42</c> with the default prefix: the lock <c>duallock:{user-point:42}</c>,
/// the fencing counter <c>duallock:{user-point:42}:fence</c> (kept forever, so tokens keep increasing),
/// the next-turn reservation <c>duallock:{user-point:42}:next</c> (short expiry) and the release
/// channel <c>duallock:{user-point:42}:released</c>.
/// </remarks>
public sealed partial class RedisLockStage : LockStage
{
    private static readonly TimeSpan ReservedRetryDelay = TimeSpan.FromMilliseconds(5);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisLockOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LocalKeyQueues _queues = new();
    private readonly RedisValue _contenderId = Guid.NewGuid().ToString("N");
    private readonly RedisValue _leaseMs;
    private readonly RedisValue _reserveMs;

    /// <summary>Initializes a new instance of the <see cref="RedisLockStage"/> class.</summary>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="options">The options, validated here. Default: <see cref="RedisLockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public RedisLockStage(IConnectionMultiplexer redis, RedisLockOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : base(ValidatedName(ref options))
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _options = options!;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis");
        _leaseMs = Ms(_options.Lease);
        _reserveMs = Ms(_options.RecheckInterval * 2);
    }

    /// <summary>Gets the number of keys this process currently holds or waits for (idle keys are forgotten).</summary>
    internal int ActiveKeyCount => _queues.Count;

    /// <summary>A lock of its own (released independently of any transaction) that issues fencing tokens.</summary>
    protected override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var start = _time.GetTimestamp();
        var key = context.Key;
        var queue = _queues.Enter(key.ToString(), () => new RedisKeyNames(_options.KeyPrefix, key), _options.MaxLocalWaiters);
        if (queue is null)
        {
            RedisLockTelemetry.QueueFull.Add(1, RedisLockTelemetry.Stage(Name));
            Log.LocalQueueFull(_logger, Name, key.Resource, _options.MaxLocalWaiters);
            return null;
        }

        LockStageHandle? handle = null;
        try
        {
            LinkedListNode<TaskCompletionSource<RedisLease?>>? waiter;
            lock (queue)
            {
                waiter = queue.TakeTurnOrQueue();
                if (waiter is not null && waitTimeout <= TimeSpan.Zero)
                {
                    queue.TryRemove(waiter);
                    return null;
                }
            }

            var contended = waiter is not null;
            if (waiter is not null)
            {
                var (granted, handedOff) = await WaitForTurnAsync(queue, key, waiter, start, waitTimeout, cancellationToken).ConfigureAwait(false);
                if (!granted)
                {
                    return null;
                }

                if (handedOff is not null)
                {
                    return handle = new RedisLockHandle(this, queue, key, handedOff, contended: true);
                }
            }

            RedisLease? lease = null;
            try
            {
                (lease, var waited) = await ContendAsync(queue, key, start, waitTimeout, cancellationToken).ConfigureAwait(false);
                contended |= waited;
            }
            catch (LockUnavailableException unavailable)
            {
                lock (queue)
                {
                    queue.FailWaiters(unavailable);
                }

                throw;
            }
            finally
            {
                if (lease is null)
                {
                    lock (queue)
                    {
                        queue.TryPassTurn(null);
                    }
                }
            }

            return lease is null ? null : handle = new RedisLockHandle(this, queue, key, lease, contended);
        }
        finally
        {
            if (handle is null)
            {
                ExitQueue(queue);
            }
        }
    }

    /// <summary>Ends a holder's turn: hands the lock to the oldest local waiter when the bounds allow, else releases it in Redis.</summary>
    internal async ValueTask ReleaseAsync(LocalKeyQueue queue, LockKey key, RedisLease lease)
    {
        try
        {
            bool periodOver;
            lock (queue)
            {
                if (lease.IsLost || queue.WaiterCount == 0)
                {
                    periodOver = false;
                }
                else if (lease.Handoffs < _options.MaxConsecutiveHandoffs && _time.GetElapsedTime(lease.AcquiredAt) < _options.MaxHandoffTime)
                {
                    HandOff(queue, key, lease);
                    return;
                }
                else
                {
                    periodOver = true;
                }
            }

            await lease.StopAsync().ConfigureAwait(false);
            if (periodOver && await KeepUnlessWantedAsync(queue, key, lease).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                await ReleaseInRedisAsync(queue.Names, lease.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisCall.IsUnavailable(ex))
            {
                // The work is done; failing it now would mislead the caller. The lock ends with its lease.
                Log.ReleaseFailed(_logger, Name, key.Resource, ex);
            }

            lock (queue)
            {
                queue.TryPassTurn(null);
            }
        }
        finally
        {
            ExitQueue(queue);
        }
    }

    /// <summary>
    /// At the end of a hand-off period, one round trip decides: another process waits (it reserved the
    /// next turn), so the lock is released for it; or nobody else does, so the lock is kept and local
    /// waiters go on. True when the lock was kept and handed off, or released by the script.
    /// </summary>
    private async ValueTask<bool> KeepUnlessWantedAsync(LocalKeyQueue queue, LockKey key, RedisLease lease)
    {
        long kept;
        try
        {
            kept = (long)await RedisCall.BoundedAsync(
                _redis.GetDatabase().ScriptEvaluateAsync(
                    RedisLockScripts.KeepUnlessWanted, queue.Names.LockAndNextKeys, [lease.Token, queue.Names.ChannelName, _leaseMs, _contenderId], CommandFlags.DemandMaster),
                _options.OperationTimeout,
                _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            // Unknown whether the lock is still ours: let the plain release below settle it (or the lease end it).
            Log.ReleaseFailed(_logger, Name, key.Resource, ex);
            return false;
        }

        if (kept == 1)
        {
            lease.StartNewPeriod();
            lease.Resume();
            lock (queue)
            {
                if (queue.WaiterCount > 0)
                {
                    HandOff(queue, key, lease);
                    return true;
                }
            }

            // The waiters gave up in the meantime: release as usual.
            await lease.StopAsync().ConfigureAwait(false);
            return false;
        }

        // Released for another process (0), or no longer ours (-1): the next local waiter contends in Redis.
        lock (queue)
        {
            queue.TryPassTurn(null);
        }

        return true;
    }

    /// <summary>Passes the held lock to the oldest local waiter; called under the queue's lock.</summary>
    private void HandOff(LocalKeyQueue queue, LockKey key, RedisLease lease)
    {
        lease.Handoffs++;
        lease.NewHolder();
        queue.TryPassTurn(lease);
        RedisLockTelemetry.Handoffs.Add(1, RedisLockTelemetry.Stage(Name));
        Log.HandedOff(_logger, Name, key, lease.Handoffs);
    }

    private static string ValidatedName(ref RedisLockOptions? options)
    {
        options = (options ?? new RedisLockOptions()).Clone();
        options.Validate();
        return options.Name;
    }

    private static string Ms(TimeSpan value) => ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);

    private void ExitQueue(LocalKeyQueue queue)
    {
        if (_queues.Exit(queue) && queue.Handler is { } handler)
        {
            RedisCall.Observe(_redis.GetSubscriber().UnsubscribeAsync(queue.Names.Channel, handler));
        }
    }
}
