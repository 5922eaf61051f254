using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    private const long CutShort = long.MinValue;
    private static readonly TimeSpan ReservedRetryDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The one caller of this process in turn for the key contends in Redis until it gets the lock or its
    /// wait ends, after a first attempt (made by the caller) that did not get it and answered <c>retryMs</c>;
    /// <c>wake</c> is the wake taken before that attempt, or <see langword="null"/> when the key had no subscription then.
    /// </summary>
    private async Task<(RedisLease? Lease, bool Waited)> ContendAsync(
        KeyTurn turn, KeyEntry entry, LockKey key, long retryMs, Task? wake, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var waited = false;
        while (true)
        {
            var remaining = waitTimeout - _time.GetElapsedTime(start);
            if (retryMs == CutShort || remaining <= TimeSpan.Zero)
            {
                return (null, waited);
            }

            waited = true;
            if (turn.TryBeginSubscription(out var handler))
            {
                // Only the caller in turn subscribes, so a key without a subscription before the attempt gets one here.
                // It runs beside the rechecks (see ReleaseChannel) and wakes this wait when it is confirmed.
                wake = turn.NextWake;
                ReleaseChannel.SubscribeBeside(_redis, turn.Names.Channel, handler, turn.Wake, _logger, Name, key);
            }

            // A wake taken now could only have missed a message before it, and the delay still bounds the wait.
            wake ??= turn.NextWake;
            var delay = retryMs < 0 ? ReservedRetryDelay : TimeSpan.FromMilliseconds(Math.Clamp(retryMs, 1, _options.RecheckInterval.TotalMilliseconds));
            if (await WaitForWakeAsync(wake, delay < remaining ? delay : remaining, cancellationToken).ConfigureAwait(false))
            {
                _telemetry.WakeUps.Add(1, RedisLockTelemetry.Stage(Name));
            }
            else
            {
                _telemetry.Rechecks.Add(1, RedisLockTelemetry.Stage(Name));
            }

            wake = turn.NextWake;
            (var lease, retryMs) = await TryAcquireOnceAsync(turn, entry, key, start, waitTimeout).ConfigureAwait(false);
            if (lease is not null)
            {
                return (lease, waited);
            }
        }
    }

    /// <summary>One acquire round trip (see <see cref="BeginAttempt"/>) while contending, or after Redis did not have the script.</summary>
    private async Task<(RedisLease? Lease, long RetryMs)> TryAcquireOnceAsync(KeyTurn turn, KeyEntry entry, LockKey key, long start, TimeSpan waitTimeout, bool byText = false)
    {
        var attempt = BeginAttempt(turn, key, start, waitTimeout, byText);
        if (attempt.Call is null)
        {
            return (null, CutShort);
        }

        try
        {
            return EndAttempt(turn, entry, attempt, await _waits.WaitAsync(attempt.Call, attempt.Bound).ConfigureAwait(false));
        }
        catch (RedisServerException ex) when (!byText && RedisCall.IsNoScript(ex))
        {
            return await TryAcquireOnceAsync(turn, entry, key, start, waitTimeout, byText: true).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsAttemptFailure(ex, attempt))
        {
            return AttemptFailed(turn, key, start, attempt, ex);
        }
    }

    /// <summary>
    /// Sends one acquire, to be awaited within <see cref="AcquireAttempt.Bound"/>: the operation timeout or,
    /// when less is left, the wait left. No call (<see langword="default"/>) when too little is left for one.
    /// Its answer (<see cref="EndAttempt"/>) is the lease, or how many ms until a retry is worth it
    /// (negative: free but another process's turn; <see cref="CutShort"/>: the wait ended first, which is a
    /// timeout, not an outage).
    /// </summary>
    /// <exception cref="LockUnavailableException">Redis is known to be unavailable, or the call could not be sent.</exception>
    private AcquireAttempt BeginAttempt(KeyTurn turn, LockKey key, long start, TimeSpan waitTimeout, bool byText = false)
    {
        ThrowIfKnownUnavailable(turn, key, start);
        var remaining = waitTimeout - _time.GetElapsedTime(start);
        var boundByWait = waitTimeout > TimeSpan.Zero && remaining < _options.OperationTimeout;
        if (boundByWait && remaining < MinAttempt)
        {
            return default;
        }

        var names = turn.Names;
        var token = Guid.NewGuid().ToString("N");
        var sent = _time.GetTimestamp();
        Task<RedisResult> call;
        try
        {
            RedisValue[] values = [token, _leaseMs, _contenderId, remaining > TimeSpan.Zero ? _reserveMs : (RedisValue)"0"];
            var db = _redis.GetDatabase();
            call = byText
                ? db.ScriptEvaluateAsync(RedisLockScripts.Acquire, names.AcquireKeys, values, CommandFlags.DemandMaster)
                : db.ScriptEvaluateAsync(RedisLockScripts.AcquireHash, names.AcquireKeys, values, CommandFlags.DemandMaster);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            NoteUnavailable(turn.Slot, names.Lock, ex);
            throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex);
        }

        return new(call, token, sent, boundByWait ? remaining : _options.OperationTimeout, boundByWait);
    }

    /// <summary>The attempt's answer: the lease (renewing from now on), or how long until a retry is worth it.</summary>
    private (RedisLease? Lease, long RetryMs) EndAttempt(KeyTurn turn, KeyEntry entry, AcquireAttempt attempt, RedisResult result)
    {
        var values = (RedisResult[])result!;
        if ((long)values[0] != 1)
        {
            return (null, (long)values[1]);
        }

        turn.BeginPeriod(_time.GetTimestamp());
        var lease = new RedisLease(
            attempt.Token, RedisFencingTokens.FromRedis((long)values[1]), entry.Settings, entry.Extend, attempt.Sent, RedisFencingTokens.LocalPerFence);
        lease.Start();
        return (lease, 0);
    }

    /// <summary>A failure <see cref="AttemptFailed"/> handles: the wait's own bound, or Redis unavailable (or not answering within the operation timeout).</summary>
    /// <remarks>Any other Redis reply (a write refusal or a refusal to fix, see <see cref="RedisErrors"/>) is one too: it must not escape without undoing a half-run script.</remarks>
    private static bool IsAttemptFailure(Exception ex, AcquireAttempt attempt)
        => (ex is TimeoutException && attempt.BoundByWait) || RedisCall.IsUnavailable(ex) || ex is RedisServerException;

    /// <summary>
    /// An attempt without an answer: the acquire may still run in Redis, so it is undone when it does. Cut
    /// short by the caller's wait, it is a timeout (no outage is known from it); otherwise Redis is unavailable.
    /// </summary>
    /// <exception cref="LockUnavailableException">Not cut short by the wait, and Redis is unavailable or refuses writes.</exception>
    /// <exception cref="InvalidOperationException">Redis refused the script for a reason to fix (permissions, a key of another type, a script error).</exception>
    private (RedisLease? Lease, long RetryMs) AttemptFailed(KeyTurn turn, LockKey key, long start, AcquireAttempt attempt, Exception ex)
    {
        var call = attempt.Call!;
        if (ex is TimeoutException)
        {
            RedisCall.Observe(call); // abandoned at its bound, it may still fail later
        }

        UndoLateAcquire(call, turn.Names, attempt.Token);
        if (ex is TimeoutException && attempt.BoundByWait)
        {
            return (null, CutShort);
        }

        switch (RedisErrors.Classify(ex))
        {
            case RedisErrorClass.Unavailable:
                NoteUnavailable(turn.Slot, turn.Names.Lock, ex);
                throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex);
            case RedisErrorClass.WritesRefused:
                // The server answers (a probe's read would end an outage at once): this acquire fails, the next one asks again.
                throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex);
            default:
                throw RedisErrors.AcquireRefused(Name, key.Resource, (RedisServerException)ex);
        }
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

                // A reply (an error) means the server ran or refused it: released now, nothing to redo when an outage ends.
                if (t.Exception?.InnerException is not RedisServerException)
                {
                    stage._abandoned.Add(n, tk);
                }

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

    /// <summary>One acquire sent: its call (none when the wait left was too short for one), token, send time and bound.</summary>
    private readonly record struct AcquireAttempt(Task<RedisResult>? Call, string Token, long Sent, TimeSpan Bound, bool BoundByWait);
}
