using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisGateStage
{
    /// <summary>
    /// Attempts in Redis until admitted or the wait ends. Between attempts it waits for the key's release
    /// message, at most until the hint Redis gave (a lease's end) and never longer than the recheck interval.
    /// A writer that gives up withdraws its intent so readers go on at once, on every exit once an attempt may have
    /// announced it: the wait ends (also while a call is out), cancellation, an outage, any exception. The intent
    /// is set by the script itself, so a call whose answer never reached us may have set it all the same.
    /// </summary>
    private async Task<(RedisLease? Lease, bool Waited)> ContendAsync(FairGate gate, RedisGateNames names, LockKey key, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var time = shared.Time;
        var token = Guid.NewGuid().ToString("N");
        var waited = false;
        var admitted = false;
        var announced = false;
        try
        {
            while (true)
            {
                var wake = gate.NextWake;
                // A writer with a wait announces itself on its attempts (a try-once writer never does).
                announced |= kind == RedisGateKind.Write && waitTimeout > TimeSpan.Zero;
                var (lease, retryMs) = await TryOnceAsync(names, key, token, start, waitTimeout, cancellationToken).ConfigureAwait(false);
                if (lease is not null)
                {
                    admitted = true;
                    return (lease, waited);
                }

                var remaining = waitTimeout - time.GetElapsedTime(start);
                if (retryMs == long.MinValue || remaining <= TimeSpan.Zero)
                {
                    return (null, waited);
                }

                waited = true;
                if (gate.TryBeginSubscription())
                {
                    // Beside the rechecks (see ReleaseChannel); its confirmation wakes the wait below, a release
                    // between the attempt and the subscription having sent no message we could see.
                    Action<RedisChannel, RedisValue> handler = (_, _) => gate.Wake();
                    gate.Subscription = handler;
                    wake = gate.NextWake;
                    ReleaseChannel.SubscribeBeside(shared.Redis, names.Channel, handler, gate.Wake, shared.Logger, Name, key);
                }

                var recheck = shared.Options.RecheckInterval;
                var delay = retryMs <= 0 ? recheck : TimeSpan.FromMilliseconds(Math.Clamp(retryMs, 1, recheck.TotalMilliseconds));
                await WaitForWakeAsync(wake, delay < remaining ? delay : remaining, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (!admitted && announced)
            {
                // Sent after the attempt on the same connection, so Redis runs it after a late attempt too. When
                // Redis is out it is lost as well; the intent then ends by its own expiry (IntentMs).
                RedisCall.Observe(shared.Redis.GetDatabase().ScriptEvaluateAsync(
                    RedisGateScripts.WithdrawIntent, names.IntentKeys, [token, names.ChannelName], CommandFlags.DemandMaster | CommandFlags.FireAndForget));
            }
        }
    }

    /// <summary>
    /// One bounded attempt. Returns the lease, or how many ms until a retry is worth it (-1: unknown;
    /// <see cref="long.MinValue"/>: the caller's wait ended during the call, a timeout and not an outage).
    /// </summary>
    private async Task<(RedisLease? Lease, long RetryMs)> TryOnceAsync(
        RedisGateNames names, LockKey key, string token, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var time = shared.Time;
        var options = shared.Options;
        var remaining = waitTimeout - time.GetElapsedTime(start);
        var boundByWait = waitTimeout > TimeSpan.Zero && remaining < options.OperationTimeout;
        if (boundByWait && remaining < MinAttempt)
        {
            return (null, long.MinValue);
        }

        RedisValue[] args = kind switch
        {
            RedisGateKind.Write => [token, shared.LeaseMs, remaining > TimeSpan.Zero ? shared.IntentMs : (RedisValue)"0"],
            RedisGateKind.Permit => [token, shared.LeaseMs, shared.PermitsArg],
            _ => [token, shared.LeaseMs],
        };
        var script = kind switch
        {
            RedisGateKind.Write => RedisGateScripts.WriteAcquire,
            RedisGateKind.Permit => RedisGateScripts.PermitAcquire,
            _ => RedisGateScripts.ReadAcquire,
        };

        var sent = time.GetTimestamp();
        Task<RedisResult>? call = null;
        Task<RedisResult>? bounded = null;
        RedisResult result;
        try
        {
            call = shared.Redis.GetDatabase().ScriptEvaluateAsync(script, names.AcquireKeys, args, CommandFlags.DemandMaster);
            bounded = RedisCall.BoundedAsync(call, boundByWait ? remaining : options.OperationTimeout, time);
            result = await bounded.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && bounded is not null)
        {
            // The caller left while the call was out: it may still admit us later.
            RedisCall.Observe(bounded);
            UndoLateAcquire(call!, names, token);
            throw;
        }
        catch (TimeoutException) when (boundByWait && call is not null)
        {
            UndoLateAcquire(call, names, token);
            return (null, long.MinValue);
        }
        catch (Exception ex) when (RedisErrors.IsUnavailableForAcquire(ex))
        {
            if (call is not null)
            {
                UndoLateAcquire(call, names, token);
            }

            throw new LockUnavailableException(key.Resource, Name, time.GetElapsedTime(start), ex);
        }

        var values = (RedisResult[])result!;
        if ((long)values[0] != 1)
        {
            return (null, (long)values[1]);
        }

        var settings = new LeaseSettings(
            Name, key, options.Lease, options.EffectiveRenewalInterval, options.MaxHoldTime, options.OperationTimeout, time, shared.Logger, shared.Telemetry);
        // A writer's token comes from the same fence counter as the Redis lock's and is compared with its tokens:
        // it is scaled the same way (see RedisFencingTokens), though a writer never hands its lease on.
        var fence = kind == RedisGateKind.Write ? RedisFencingTokens.FromRedis((long)values[1]) : (long)values[1];
        var lease = new RedisLease(token, fence, settings, ExtendAsync(names), sent);
        lease.Start();
        return (lease, 0);
    }

    /// <summary>An attempt abandoned after its bound may still be admitted in Redis later: release it then, so it does not hold a permit for a whole lease.</summary>
    private void UndoLateAcquire(Task<RedisResult> call, RedisGateNames names, string token)
        => call.ContinueWith(
            (t, state) =>
            {
                var (stage, n, tk) = ((RedisGateStage, RedisGateNames, string))state!;
                if (t.IsCompletedSuccessfully && (long)((RedisResult[])t.Result!)[0] == 1)
                {
                    RedisCall.Observe(stage.ReleaseCall(n, tk));
                }
            },
            (this, names, token),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private Func<RedisLease, Task<bool>> ExtendAsync(RedisGateNames names) => async lease =>
    {
        var (script, keys) = kind == RedisGateKind.Write
            ? (RedisLockScripts.Extend, names.WriterKeys)
            : (RedisGateScripts.SharedExtend, names.HolderKeys);
        var result = await RedisCall.BoundedAsync(
            shared.Redis.GetDatabase().ScriptEvaluateAsync(script, keys, [lease.Token, shared.LeaseMs], CommandFlags.DemandMaster),
            shared.Options.OperationTimeout,
            shared.Time).ConfigureAwait(false);
        return (long)result == 1;
    };

    private async Task WaitForWakeAsync(Task wake, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (wake.IsCompleted)
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(delay, shared.Time, stop.Token);
        await Task.WhenAny(wake, sleep).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
