using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    private enum KeepResult
    {
        /// <summary>Kept in Redis and handed to the oldest local waiter: the turn has passed.</summary>
        HandedOff,

        /// <summary>Released for another process by the script, or no longer ours: nothing left to release.</summary>
        Settled,

        /// <summary>Not settled (an error, or kept while the waiters left): release it as usual.</summary>
        Release,
    }

    /// <summary>
    /// Ends a holder's turn with the lock: hands it to the oldest local waiter when the bounds allow,
    /// else keeps or releases it in Redis. Whatever Redis answers or throws, the turn passes on (in the
    /// finally): an error that is not an outage (-OOM, -NOREPLICAS) must not wedge the key's queue.
    /// With <paramref name="exit"/> the caller's use of the key ends too, after the turn has passed.
    /// </summary>
    /// <remarks>The release in Redis is awaited here rather than in a method of its own: uncontended, the whole release is this one state machine.</remarks>
    private async ValueTask EndTurnAsync(KeyTurn turn, LockKey key, RedisLease lease, bool exit)
    {
        try
        {
            var end = turn.EndTurn(lease, Bounds);
            if (end == TurnEnd.HandedOff)
            {
                HandedOff(turn, key);
                return;
            }

            if (end == TurnEnd.Deferred)
            {
                return; // still in turn: the last holder that passed the lock on early ends it (ReleasePassedEarlyAsync)
            }

            var passed = false;
            try
            {
                await lease.StopAsync().ConfigureAwait(false);
                if (end == TurnEnd.EndPeriod)
                {
                    switch (await KeepUnlessWantedAsync(turn, key, lease).ConfigureAwait(false))
                    {
                        case KeepResult.HandedOff:
                            passed = true;
                            return;
                        case KeepResult.Settled:
                            return;
                    }
                }

                // Compare-and-delete in Redis. An outage is logged, not thrown: the work is done, and the lock ends with its lease.
                // While an outage is known the release is still sent (a late one is harmless) but not waited for.
                var outage = _outages.Find(turn.Slot) is not null;
                Task<RedisResult>? call = null;
                try
                {
                    if (outage)
                    {
                        call = ReleaseCall(turn.Names, lease.Token);
                        RedisCall.Observe(call);
                        return;
                    }

                    call = _redis.GetDatabase().ScriptEvaluateAsync(
                        RedisLockScripts.ReleaseHash, turn.Names.LockKeys, [lease.Token, turn.Names.ChannelName], CommandFlags.DemandMaster);
                    try
                    {
                        await _waits.WaitAsync(call, _options.OperationTimeout).ConfigureAwait(false);
                    }
                    catch (RedisServerException ex) when (RedisCall.IsNoScript(ex))
                    {
                        call = ReleaseCall(turn.Names, lease.Token); // the script did not run: its text loads it
                        await _waits.WaitAsync(call, _options.OperationTimeout).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (RedisCall.IsUnavailable(ex))
                {
                    if (ex is TimeoutException && call is not null)
                    {
                        RedisCall.Observe(call); // abandoned at its bound, it may still fail later
                    }

                    NoteUnavailable(turn.Slot, turn.Names.Lock, ex);
                    Log.ReleaseFailed(_logger, Name, key.Resource, ex);
                }

                // Any other reply (writes refused: -OOM, -NOREPLICAS, -MISCONF; or a refusal to fix) leaves the lock to
                // expire with its lease and goes up unlogged: the pipeline logs and counts every release failure once.
            }
            finally
            {
                if (!passed)
                {
                    turn.PassTurn(null);
                }
            }
        }
        finally
        {
            if (exit)
            {
                ExitTurn(turn);
            }
        }
    }

    /// <summary>
    /// At the end of a hand-off period, one round trip decides: another process waits (it reserved the
    /// next turn), so the lock is released for it; or nobody else does, so the lock is kept and local
    /// waiters go on.
    /// </summary>
    private async ValueTask<KeepResult> KeepUnlessWantedAsync(KeyTurn turn, LockKey key, RedisLease lease)
    {
        if (_outages.Find(turn.Slot) is not null)
        {
            return KeepResult.Release;
        }

        var sent = _time.GetTimestamp();
        long kept;
        try
        {
            kept = (long)await RedisCall.BoundedAsync(
                _redis.GetDatabase().ScriptEvaluateAsync(
                    RedisLockScripts.KeepUnlessWanted, turn.Names.KeepKeys, [lease.Token, turn.Names.ChannelName, _leaseMs, _contenderId], CommandFlags.DemandMaster),
                _options.OperationTimeout,
                _time).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Unknown whether the lock is still ours (an outage, or an error such as -OOM): the plain release settles it, or the lease ends it.
            if (RedisCall.IsUnavailable(ex))
            {
                NoteUnavailable(turn.Slot, turn.Names.Lock, ex);
            }

            Log.ReleaseFailed(_logger, Name, key.Resource, ex);
            return KeepResult.Release;
        }

        if (kept <= 0)
        {
            return KeepResult.Settled; // released for another process (0), or no longer ours (-1)
        }

        // Kept with a new Redis fence: the period's hand-offs count on from its range, above every token of the last one.
        lease.Refence(RedisFencingTokens.FromRedis(kept), RedisFencingTokens.LocalPerFence);
        lease.Resume(sent);
        if (turn.HandOffKept(lease, _time.GetTimestamp()))
        {
            HandedOff(turn, key);
            return KeepResult.HandedOff;
        }

        // The waiters gave up in the meantime: release as usual.
        await lease.StopAsync().ConfigureAwait(false);
        return KeepResult.Release;
    }

    /// <summary>
    /// Gives the turn to the oldest local waiter while this holder's work still runs, because a row lock inside
    /// excludes the key until this holder's transaction ends (see <see cref="LockStageHandle.OnInnerExclusionHeld"/>):
    /// the next holder waits for the row in the database, one caller deep, and the database hands it over at the
    /// commit. Only inside the hand-off period's bounds; otherwise the turn ends at the release, as usual. When
    /// nobody waits yet, the next caller to arrive takes the turn (see <see cref="KeyTurn.TryTakeTurn"/>).
    /// </summary>
    internal void TryPassEarly(KeyTurn turn, LockKey key, RedisLockHandle holder)
    {
        if (turn.TryPassEarly(holder, Bounds))
        {
            HandedOff(turn, key);
        }
    }

    /// <summary>
    /// The release of a holder that passed its turn on early: the lease is the later holders' now. The maximum hold
    /// time counted from this holder's start until here, so a holder that never ends still makes the lease run out.
    /// </summary>
    internal ValueTask ReleasePassedEarlyAsync(KeyTurn turn, LockKey key, RedisLease lease)
    {
        // The turn that ended while this holder ran (deferred) ends now; with nothing deferred only the key's use ends.
        if (turn.EarlyPasserEnded(lease) is { } deferred)
        {
            return EndTurnAsync(turn, key, deferred, exit: true);
        }

        ExitTurn(turn);
        return ValueTask.CompletedTask;
    }

    /// <summary>The release by the script's text: what an unawaited release sends, since it could not fall back on NOSCRIPT.</summary>
    private Task<RedisResult> ReleaseCall(RedisKeyNames names, string token)
        => _redis.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Release, names.LockKeys, [token, names.ChannelName], CommandFlags.DemandMaster);

    private void HandedOff(KeyTurn turn, LockKey key)
    {
        _telemetry.Handoffs.Add(1, RedisLockTelemetry.Stage(Name));
        Log.HandedOff(_logger, Name, key, turn.Handoffs);
    }
}
