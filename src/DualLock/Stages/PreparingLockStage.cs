namespace DualLock;

/// <summary>
/// A stage whose acquire splits in two: a prepare step that takes no lock and reads nothing from the context (a
/// database connection opened and its transaction begun), which the pipeline may start while the stage outside it is
/// still acquiring; and a completion, run once every outer stage holds, that captures what the outer stages provide
/// (their lease-lost token, a named-lock guard) exactly as a plain acquire does. Overlapping the prepare with the
/// outer lock's round trip takes the connection's open and <c>BEGIN</c> off the caller's path.
/// </summary>
/// <remarks>
/// A prepared transaction holds no lock: MySQL and PostgreSQL take the snapshot at the first statement, not at
/// <c>BEGIN</c>, so what the work reads after the outer lock is held is what it would have read without the prepare.
/// </remarks>
internal abstract class PreparingLockStage : LockStage
{
    protected PreparingLockStage(string name)
        : base(name)
    {
    }

    /// <summary>Gets whether this stage prepares at all (a fenced transaction does not: its first statement needs the outer token).</summary>
    internal abstract bool CanPrepare { get; }

    /// <summary>Prepares without a lock, bounded by <paramref name="waitTimeout"/>; returns <see langword="null"/> when it could not (the plain acquire then runs and reports why).</summary>
    internal abstract ValueTask<object?> PrepareAsync(TimeSpan waitTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Completes the acquire from <paramref name="prepared"/>, once every outer stage holds: from here on as
    /// <see cref="LockStage.TryAcquireAsync"/>. It owns <paramref name="prepared"/>: when it throws or returns
    /// <see langword="null"/>, it has ended it.
    /// </summary>
    internal abstract ValueTask<LockStageHandle?> CompleteAsync(LockContext context, object prepared);

    /// <summary>Ends a prepared state that will not be used (the outer stage did not acquire); never throws.</summary>
    internal abstract ValueTask DiscardAsync(object prepared);
}
