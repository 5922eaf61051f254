using StackExchange.Redis;

namespace DualLock.Redis;

public sealed partial class RedisLockStage
{
    /// <summary>Waits in the local queue; returns whether the turn came, and the lock when it was handed over.</summary>
    private async Task<(bool Granted, RedisLease? Lease)> WaitForTurnAsync(
        LocalKeyQueue queue, LockKey key, LinkedListNode<TaskCompletionSource<RedisLease?>> waiter, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var remaining = waitTimeout - _time.GetElapsedTime(start);
        try
        {
            return (true, await waiter.Value.Task.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false));
        }
        catch (LockUnavailableException ex)
        {
            // The caller in turn found Redis unavailable and failed the queue (see FailWaiters).
            throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex.InnerException ?? ex);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (queue)
            {
                if (queue.TryRemove(waiter))
                {
                    if (ex is OperationCanceledException)
                    {
                        throw;
                    }

                    return (false, null);
                }
            }

            // The queue was failed while we gave up: Redis is unavailable.
            if (waiter.Value.Task.Exception?.InnerException is LockUnavailableException unavailable)
            {
                throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), unavailable.InnerException ?? unavailable);
            }

            // The turn was given to us while we gave up: take it, or pass it on so it is not lost.
            var lease = waiter.Value.Task.Result;
            if (ex is TimeoutException && lease is not null)
            {
                return (true, lease);
            }

            if (lease is not null)
            {
                lock (queue)
                {
                    queue.Users++; // ReleaseAsync leaves the queue once more; our own exit follows in the caller
                }

                await ReleaseAsync(queue, key, lease).ConfigureAwait(false);
            }
            else
            {
                lock (queue)
                {
                    queue.TryPassTurn(null);
                }
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            return (false, null);
        }
    }

    /// <summary>The one caller of this process in turn for the key contends in Redis until it gets the lock or its wait ends.</summary>
    private async Task<(RedisLease? Lease, bool Waited)> ContendAsync(LocalKeyQueue queue, LockKey key, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var waited = false;
        while (true)
        {
            var wake = queue.NextWake;
            var willWait = waitTimeout - _time.GetElapsedTime(start) > TimeSpan.Zero;
            var (lease, retryMs) = await TryAcquireOnceAsync(queue.Names, key, start, reserve: willWait).ConfigureAwait(false);
            if (lease is not null)
            {
                return (lease, waited);
            }

            var remaining = waitTimeout - _time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return (null, waited);
            }

            waited = true;
            if (queue.Subscribed is null)
            {
                // Subscribe, then check again at once: a release between the attempt and the subscription sent no message we could see.
                await SubscribeAsync(queue, key).ConfigureAwait(false);
                continue;
            }

            var delay = retryMs < 0 ? ReservedRetryDelay : TimeSpan.FromMilliseconds(Math.Clamp(retryMs, 1, _options.RecheckInterval.TotalMilliseconds));
            if (await WaitForWakeAsync(wake, delay < remaining ? delay : remaining, cancellationToken).ConfigureAwait(false))
            {
                RedisLockTelemetry.WakeUps.Add(1, RedisLockTelemetry.Stage(Name));
            }
            else
            {
                RedisLockTelemetry.Rechecks.Add(1, RedisLockTelemetry.Stage(Name));
            }
        }
    }

    /// <summary>One acquire round trip. Returns the lease, or how many ms until a retry is worth it (negative: free but another process's turn).</summary>
    private async Task<(RedisLease? Lease, long RetryMs)> TryAcquireOnceAsync(RedisKeyNames names, LockKey key, long start, bool reserve)
    {
        var token = Guid.NewGuid().ToString("N");
        var call = _redis.GetDatabase().ScriptEvaluateAsync(
            RedisLockScripts.Acquire,
            names.AcquireKeys,
            [token, _leaseMs, _contenderId, reserve ? _reserveMs : (RedisValue)"0"],
            CommandFlags.DemandMaster);
        RedisResult result;
        try
        {
            result = await RedisCall.BoundedAsync(call, _options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            UndoLateAcquire(call, names, token);
            throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex);
        }

        var values = (RedisResult[])result!;
        if ((long)values[0] != 1)
        {
            return (null, (long)values[1]);
        }

        var lease = new RedisLease(token, (long)values[1], Settings(key), l => ExtendAsync(names, l), _time.GetTimestamp());
        lease.Start();
        return (lease, 0);
    }

    /// <summary>An acquire abandoned after its bound may still succeed in Redis: release it then, so the key is not held by nobody for a whole lease.</summary>
    private void UndoLateAcquire(Task<RedisResult> call, RedisKeyNames names, string token)
        => call.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully && (long)((RedisResult[])t.Result!)[0] == 1)
                {
                    RedisCall.Observe(ReleaseInRedisAsync(names, token));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private async Task<bool> ExtendAsync(RedisKeyNames names, RedisLease lease)
    {
        var result = await RedisCall.BoundedAsync(
            _redis.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Extend, names.LockKeys, [lease.Token, _leaseMs], CommandFlags.DemandMaster),
            _options.OperationTimeout,
            _time).ConfigureAwait(false);
        return (long)result == 1;
    }

    private Task<RedisResult> ReleaseInRedisAsync(RedisKeyNames names, string token)
        => RedisCall.BoundedAsync(
            _redis.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Release, names.LockKeys, [token, names.ChannelName], CommandFlags.DemandMaster),
            _options.OperationTimeout,
            _time);

    private async Task SubscribeAsync(LocalKeyQueue queue, LockKey key)
    {
        Task subscribed;
        lock (queue)
        {
            if (queue.Subscribed is not null)
            {
                return;
            }

            queue.Handler = (_, _) => queue.Wake();
            subscribed = queue.Subscribed = _redis.GetSubscriber().SubscribeAsync(queue.Names.Channel, queue.Handler);
        }

        try
        {
            await RedisCall.BoundedAsync(subscribed, _options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            // Waiters still re-check every RecheckInterval; the next acquire attempt reports an outage.
            Log.SubscribeFailed(_logger, Name, key, ex);
        }
    }

    private async Task<bool> WaitForWakeAsync(Task wake, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (wake.IsCompleted)
        {
            return true;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(delay, _time, stop.Token);
        var first = await Task.WhenAny(wake, sleep).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return first == wake;
    }

    private LeaseSettings Settings(LockKey key) => new(
        Name, key, _options.Lease, _options.EffectiveRenewalInterval, _options.MaxHoldTime, _options.OperationTimeout, _time, _logger);
}
