using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    /// <summary>
    /// Fails at once, without a Redis call, when Redis is known to be unavailable for the key's server:
    /// an outage noted earlier, or the connection reporting that server disconnected (which notes one).
    /// </summary>
    private void ThrowIfKnownUnavailable(KeyTurn turn, LockKey key, long start)
    {
        var outage = _outages.Find(turn.Slot);
        if (outage is null && !_redis.GetDatabase().IsConnected(turn.Names.Lock, CommandFlags.DemandMaster))
        {
            NoteUnavailable(turn.Slot, turn.Names.Lock, new RedisConnectionException(ConnectionFailureType.UnableToConnect, "The connection reports the Redis server of this key disconnected."));
            outage = _outages.Find(turn.Slot);
        }

        if (outage is not null)
        {
            throw KnownUnavailable(key, outage, _time.GetElapsedTime(start));
        }
    }

    /// <summary>Counts an acquire refused because of a known outage and returns what it fails with.</summary>
    private LockUnavailableException KnownUnavailable(LockKey key, RedisOutage outage, TimeSpan elapsed)
    {
        _telemetry.KnownUnavailable.Add(1, RedisLockTelemetry.Stage(Name));
        return new LockUnavailableException(key.Resource, Name, elapsed, KnownOutage(outage));
    }

    /// <summary>Deletes the key's next-turn reservation if this process holds it; sent without waiting (commands on one connection keep their order).</summary>
    private void ForgoReservedTurn(KeyTurn turn)
    {
        if (_outages.Find(turn.Slot) is not null)
        {
            return; // the reservation expires on its own (twice the recheck interval)
        }

        RedisCall.Observe(_redis.GetDatabase().ScriptEvaluateAsync(
            RedisLockScripts.ForgoTurn, turn.Names.NextKeys, [_contenderId], CommandFlags.DemandMaster | CommandFlags.FireAndForget));
    }

    private RedisConnectionException KnownOutage(RedisOutage outage) => new(
        ConnectionFailureType.UnableToConnect,
        $"Redis is known to be unavailable (for {_time.GetElapsedTime(outage.Since).TotalMilliseconds:0} ms; probed every {_options.OutageProbeInterval.TotalMilliseconds:0} ms): {outage.Cause.Message}",
        outage.Cause);

    /// <summary>A call found the server of <paramref name="slot"/> unavailable: from now on acquires there fail at once, until the probe gets an answer.</summary>
    private void NoteUnavailable(int slot, RedisKey probeKey, Exception cause)
    {
        if (_outages.Find(slot) is { } known)
        {
            known.Cause = cause;
            return;
        }

        if (_outages.Begin(slot, cause, _time.GetTimestamp()) is { } outage)
        {
            Log.OutageKnown(_logger, Name, _options.OutageProbeInterval.TotalMilliseconds, cause);
            _ = ProbeUntilAnsweredAsync(outage, probeKey);
        }
    }

    /// <summary>The one probe of an outage: every probe interval one bounded read routed like the key's lock, until Redis answers.</summary>
    private async Task ProbeUntilAnsweredAsync(RedisOutage outage, RedisKey key)
    {
        while (true)
        {
            await Task.Delay(_options.OutageProbeInterval, _time).ConfigureAwait(false);
            try
            {
                await RedisCall.BoundedAsync(_redis.GetDatabase().KeyExistsAsync(key, CommandFlags.DemandMaster), _options.OperationTimeout, _time).ConfigureAwait(false);
                break;
            }
#pragma warning disable CA1031 // any answer (even an error reply that is not an outage) means the server is reachable
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!RedisCall.IsUnavailable(ex))
                {
                    break;
                }

                outage.Cause = ex;
            }
        }

        _outages.End(outage);
        Log.OutageOver(_logger, Name, _time.GetElapsedTime(outage.Since).TotalMilliseconds);
        await ReleaseAbandonedAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Releases the acquires the client gave up on, now that Redis answers, and once more a second later:
    /// commands a hung server read before it stopped may run after the first release if the client has
    /// reconnected meanwhile (another connection, no ordering between them).
    /// </summary>
    private async Task ReleaseAbandonedAsync()
    {
        var abandoned = _abandoned.Drain();
        if (abandoned.Count == 0)
        {
            return;
        }

        for (var pass = 0; pass < 2; pass++)
        {
            if (pass > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time).ConfigureAwait(false);
            }

            foreach (var (names, token) in abandoned)
            {
                RedisCall.Observe(ReleaseCall(names, token));
            }
        }
    }
}
