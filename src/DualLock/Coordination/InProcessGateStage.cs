namespace DualLock;

/// <summary>
/// A stage over a process-local <see cref="FairGate"/> per key: the read or write side of an in-process
/// reader-writer lock (two stages sharing one registry of gates), or a semaphore's permit.
/// </summary>
internal sealed class InProcessGateStage(string name, KeyedRegistry<FairGate> gates, bool exclusive, int maxQueueLength, TimeProvider time) : LockStage(name)
{
    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    /// <summary>Gets the number of keys currently held or waited for (idle keys are forgotten).</summary>
    internal int ActiveKeyCount => gates.Count;

    /// <summary>The write side excludes every other holder; the read side and a semaphore's permit do not.</summary>
    protected internal override LockStageTraits Traits => exclusive ? LockStageTraits.Excludes : LockStageTraits.None;

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= AcquireKeyAsync, cancellationToken);

    private async ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var gate = gates.Enter(key.ToString(), maxQueueLength);
        if (gate is null)
        {
            return null;
        }

        var entered = false;
        try
        {
            (entered, var contended) = await gate.EnterAsync(exclusive, waitTimeout, time, cancellationToken).ConfigureAwait(false);
            return entered ? new Handle(gates, gate, exclusive, contended) : null;
        }
        finally
        {
            if (!entered)
            {
                gates.Exit(gate);
            }
        }
    }

    private sealed class Handle(KeyedRegistry<FairGate> gates, FairGate gate, bool exclusive, bool contended) : LockStageHandle
    {
        private int _released;

        public override bool Contended => contended;

        public override ValueTask ReleaseAsync(bool workSucceeded)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Exit(exclusive);
                gates.Exit(gate);
            }

            return ValueTask.CompletedTask;
        }
    }
}
