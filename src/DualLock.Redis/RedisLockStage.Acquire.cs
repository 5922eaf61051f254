using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    private const long CutShort = long.MinValue;
    private static readonly TimeSpan ReservedRetryDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(1);

    /// <summary>The one caller of this process in turn for the key contends in Redis until it gets the lock or its wait ends.</summary>
    private async Task<(RedisLease? Lease, bool Waited)> ContendAsync(KeyTurn turn, LockKey key, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var waited = false;
        while (true)
        {
            var wake = turn.NextWake;
            var (lease, retryMs) = await TryAcquireOnceAsync(turn, key, start, waitTimeout).ConfigureAwait(false);
            if (lease is not null)
            {
                return (lease, waited);
            }

            var remaining = waitTimeout - _time.GetElapsedTime(start);
            if (retryMs == CutShort || remaining <= TimeSpan.Zero)
            {
                return (null, waited);
            }

            waited = true;
            if (turn.TryBeginSubscription(out var handler))
            {
                // Subscribe, then check again at once: a release between the attempt and the subscription sent no message we could see.
                await SubscribeAsync(turn, key, handler).ConfigureAwait(false);
                continue;
            }

            var delay = retryMs < 0 ? ReservedRetryDelay : TimeSpan.FromMilliseconds(Math.Clamp(retryMs, 1, _options.RecheckInterval.TotalMilliseconds));
            if (await WaitForWakeAsync(wake, delay < remaining ? delay : remaining, cancellationToken).ConfigureAwait(false))
            {
                _telemetry.WakeUps.Add(1, RedisLockTelemetry.Stage(Name));
            }
            else
            {
                _telemetry.Rechecks.Add(1, RedisLockTelemetry.Stage(Name));
            }
        }
    }

    /// <summary>
    /// One acquire round trip, bounded by the operation timeout or, when less is left, by the wait left.
    /// Returns the lease, or how many ms until a retry is worth it (negative: free but another process's
    /// turn; <see cref="CutShort"/>: the wait ended first, which is a timeout, not an outage).
    /// </summary>
    private async Task<(RedisLease? Lease, long RetryMs)> TryAcquireOnceAsync(KeyTurn turn, LockKey key, long start, TimeSpan waitTimeout)
    {
        ThrowIfKnownUnavailable(turn, key, start);
        var remaining = waitTimeout - _time.GetElapsedTime(start);
        var boundByWait = waitTimeout > TimeSpan.Zero && remaining < _options.OperationTimeout;
        if (boundByWait && remaining < MinAttempt)
        {
            return (null, CutShort);
        }

        var names = turn.Names;
        var token = Guid.NewGuid().ToString("N");
        var sent = _time.GetTimestamp();
        Task<RedisResult>? call = null;
        RedisResult result;
        try
        {
            call = _redis.GetDatabase().ScriptEvaluateAsync(
                RedisLockScripts.Acquire,
                names.AcquireKeys,
                [token, _leaseMs, _contenderId, remaining > TimeSpan.Zero ? _reserveMs : (RedisValue)"0"],
                CommandFlags.DemandMaster);
            result = await RedisCall.BoundedAsync(call, boundByWait ? remaining : _options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException) when (boundByWait && call is not null)
        {
            // Cut short by the caller's wait, not by the operation timeout: no outage is known from it.
            UndoLateAcquire(call, names, token);
            return (null, CutShort);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            if (call is not null)
            {
                UndoLateAcquire(call, names, token);
            }

            NoteUnavailable(turn.Slot, names.Lock, ex);
            throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex);
        }

        var values = (RedisResult[])result!;
        if ((long)values[0] != 1)
        {
            return (null, (long)values[1]);
        }

        turn.BeginPeriod(_time.GetTimestamp());
        var slot = turn.Slot;
        var lease = new RedisLease(token, (long)values[1], Settings(key), l => ExtendAsync(slot, names, l), sent);
        lease.Start();
        return (lease, 0);
    }

    /// <summary>
    /// An acquire abandoned after its bound may still succeed in Redis: release it then, so the key is not
    /// held by nobody for a whole lease. When its answer never comes (the client's own timeout, a broken
    /// connection), a hung server may still run it when it wakes: release it now (queued behind it on a
    /// live connection) and again when the outage ends (see <see cref="AbandonedAcquires"/>).
    /// </summary>
    private void UndoLateAcquire(Task<RedisResult> call, RedisKeyNames names, string token)
        => call.ContinueWith(
            (t, state) =>
            {
                var (stage, n, tk) = ((RedisLockStage, RedisKeyNames, string))state!;
                if (t.IsCompletedSuccessfully)
                {
                    if ((long)((RedisResult[])t.Result!)[0] == 1)
                    {
                        RedisCall.Observe(stage.ReleaseCall(n, tk));
                    }

                    return;
                }

                stage._abandoned.Add(n, tk);
                RedisCall.Observe(stage.ReleaseCall(n, tk));
            },
            (this, names, token),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private async Task<bool> ExtendAsync(int slot, RedisKeyNames names, RedisLease lease)
    {
        if (_outages.Find(slot) is { } outage)
        {
            throw KnownOutage(outage);
        }

        try
        {
            var result = await RedisCall.BoundedAsync(
                _redis.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Extend, names.LockKeys, [lease.Token, _leaseMs], CommandFlags.DemandMaster),
                _options.OperationTimeout,
                _time).ConfigureAwait(false);
            return (long)result == 1;
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            NoteUnavailable(slot, names.Lock, ex);
            throw;
        }
    }

    private async Task SubscribeAsync(KeyTurn turn, LockKey key, Action<RedisChannel, RedisValue> handler)
    {
        try
        {
            await RedisCall.BoundedAsync(_redis.GetSubscriber().SubscribeAsync(turn.Names.Channel, handler), _options.OperationTimeout, _time).ConfigureAwait(false);
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
}
