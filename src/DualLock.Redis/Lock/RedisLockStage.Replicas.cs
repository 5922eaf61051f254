using System.Globalization;
using StackExchange.Redis;

namespace DualLock.Redis;

internal sealed partial class RedisLockStage
{
    /// <summary>
    /// With <see cref="RedisLockOptions.WaitForReplicas"/> on, an acquire from Redis counts only once that many
    /// replicas acknowledged it (WAIT, on the connection that sent the acquire, so it covers that write): a
    /// failover to a replica without it would hand the key to a second holder. Otherwise the lock is released
    /// (not handed on: the waiters of this process fail with the same error) and the acquire is unavailable.
    /// </summary>
    /// <exception cref="LockUnavailableException">Fewer replicas acknowledged within half the operation timeout, or WAIT failed.</exception>
    private async Task ConfirmReplicatedAsync(KeyTurn turn, LockKey key, RedisLease lease, long start)
    {
        // WAIT's own timeout is half the bound, so the server answers with a count before the client gives up on it.
        var waitMs = Math.Max(1, (long)(_options.OperationTimeout.TotalMilliseconds / 2));
        Exception failure;
        try
        {
            var call = _redis.GetDatabase().ExecuteAsync("WAIT", [_options.WaitForReplicas, waitMs], CommandFlags.DemandMaster);
            var acknowledged = (long)await _waits.WaitAsync(call, _options.OperationTimeout).ConfigureAwait(false);
            if (acknowledged >= _options.WaitForReplicas)
            {
                return;
            }

            failure = new RedisException(string.Create(
                CultureInfo.InvariantCulture,
                $"WAIT {_options.WaitForReplicas} {waitMs}: {acknowledged} of {_options.WaitForReplicas} replica(s) acknowledged the lock within {waitMs} ms; a failover could forget it, so it was released."));
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex) || ex is RedisServerException)
        {
            failure = ex;
        }

        await lease.StopAsync().ConfigureAwait(false);
        RedisCall.Observe(ReleaseCall(turn.Names, lease.Token));
        throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), failure);
    }
}
