using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// One side of a Redis reader-writer lock (read or write) or a Redis semaphore's permit. A caller first
/// passes the key's local gate (first come first served in this process: a local writer waits for the
/// local readers before it and holds back those after it), then contends in Redis until admitted or its
/// wait ends, woken by the key's release messages with a bounded re-check as fallback. An admitted caller
/// holds a lease that a watchdog renews; a lost lease cancels the work's token.
/// </summary>
internal sealed partial class RedisGateStage(string name, RedisGateShared shared, RedisGateKind kind) : LockStage(name)
{
    private static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(1);

    private bool Exclusive => kind == RedisGateKind.Write;

    /// <summary>A writer excludes every other holder and issues fencing tokens; readers and permits do neither.</summary>
    protected internal override LockStageTraits Traits => Exclusive ? LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken : LockStageTraits.None;

    /// <summary>Gets the number of keys this process currently holds or waits for (for tests).</summary>
    internal int ActiveKeyCount => shared.Gates.Count;

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= AcquireKeyAsync, cancellationToken);

    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    private async ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var time = shared.Time;
        var start = time.GetTimestamp();
        var gate = shared.Gates.Enter(key.ToString(), shared.Options.MaxQueueLength);
        if (gate is null)
        {
            Log.LocalQueueFull(shared.Logger, Name, key.Resource, shared.Options.MaxQueueLength);
            return null;
        }

        var names = new RedisGateNames(shared.Options.KeyPrefix, key, kind);
        var entered = false;
        LockStageHandle? handle = null;
        try
        {
            (entered, var contended) = await gate.EnterAsync(Exclusive, waitTimeout, time, cancellationToken).ConfigureAwait(false);
            if (!entered)
            {
                return null;
            }

            var lease = await ContendAsync(gate, names, key, start, waitTimeout, cancellationToken).ConfigureAwait(false);
            if (lease.Lease is null)
            {
                return null;
            }

            return handle = new Handle(this, gate, names, key, lease.Lease, contended || lease.Waited);
        }
        finally
        {
            if (handle is null)
            {
                if (entered)
                {
                    gate.Exit(Exclusive);
                }

                shared.Exit(gate, names);
            }
        }
    }

    /// <summary>Releases in Redis (compare-and-remove, waking waiters), then leaves the local gate. A failure is logged: the lease ends it.</summary>
    private async ValueTask ReleaseAsync(FairGate gate, RedisGateNames names, LockKey key, RedisLease lease)
    {
        try
        {
            await lease.StopAsync().ConfigureAwait(false);
            await RedisCall.BoundedAsync(ReleaseCall(names, lease.Token), shared.Options.OperationTimeout, shared.Time).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex) || ex is RedisServerException)
        {
            Log.ReleaseFailed(shared.Logger, Name, key.Resource, ex);
        }
        finally
        {
            gate.Exit(Exclusive);
            shared.Exit(gate, names);
        }
    }

    private Task<RedisResult> ReleaseCall(RedisGateNames names, string token) => kind switch
    {
        RedisGateKind.Write => shared.Redis.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Release, names.WriterKeys, [token, names.ChannelName], CommandFlags.DemandMaster),
        _ => shared.Redis.GetDatabase().ScriptEvaluateAsync(
            RedisGateScripts.SharedRelease, names.HolderKeys, [token, names.ChannelName, kind == RedisGateKind.Permit ? "1" : "0"], CommandFlags.DemandMaster),
    };

    private sealed class Handle(RedisGateStage stage, FairGate gate, RedisGateNames names, LockKey key, RedisLease lease, bool contended) : LockStageHandle
    {
        private int _released;

        public override long? FencingToken => stage.Exclusive ? lease.FencingToken : null;

        public override CancellationToken LeaseLost => lease.LeaseLost;

        public override bool Contended => contended;

        public override ValueTask ReleaseAsync(bool workSucceeded)
            => Interlocked.Exchange(ref _released, 1) == 0 ? stage.ReleaseAsync(gate, names, key, lease) : ValueTask.CompletedTask;
    }
}
