namespace DualLock.Redis;

/// <summary>How a holder's turn with the lock ends (see <see cref="KeyTurn.EndTurn"/>).</summary>
internal enum TurnEnd
{
    /// <summary>The lock passed to the oldest local waiter; nothing to do in Redis.</summary>
    HandedOff,

    /// <summary>Nobody waits here (or the lease is lost): release the lock in Redis.</summary>
    Release,

    /// <summary>Waiters remain but the hand-off period is over: ask Redis whether another process wants the lock.</summary>
    EndPeriod,

    /// <summary>
    /// A holder that passed the lock on early still runs: the lock stays held, and the turn ends when the last such
    /// holder ends (<see cref="KeyTurn.EarlyPasserEnded"/>), so the lock in Redis outlives every transaction under it.
    /// </summary>
    Deferred,
}

/// <summary>What a waiter got (see <see cref="KeyTurn.WaitForTurnAsync"/>).</summary>
internal enum TurnOutcome
{
    /// <summary>The turn came without the lock: contend for it in Redis.</summary>
    Contend,

    /// <summary>The turn came with the lock (<see cref="TurnGrant.Lease"/>).</summary>
    HandedOff,

    /// <summary>The wait ran out first.</summary>
    TimedOut,

    /// <summary>The waiter was cancelled just as the lock was handed to it: it must end that turn (hand off or release) and then report the cancellation.</summary>
    CancelledHolding,
}

/// <summary>The result of a wait for the turn.</summary>
internal readonly record struct TurnGrant(TurnOutcome Outcome, RedisLease? Lease);

/// <summary>A caller waiting for the turn; completed with the lock (a hand-off) or <see langword="null"/> (the right to contend).</summary>
internal sealed class TurnWaiter() : TaskCompletionSource<RedisLease?>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    internal LinkedListNode<TurnWaiter>? Node { get; set; }
}

/// <summary>The hand-off period's bounds (<see cref="RedisLockOptions.MaxConsecutiveHandoffs"/>, <see cref="RedisLockOptions.MaxHandoffTime"/>) and the clock they are measured by.</summary>
internal readonly record struct PassBounds(int MaxHandoffs, TimeSpan MaxHandoffTime, TimeProvider Time);
