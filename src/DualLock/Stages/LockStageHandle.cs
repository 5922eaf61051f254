namespace DualLock;

/// <summary>What a stage holds while the work runs; released exactly once by the pipeline.</summary>
public abstract class LockStageHandle
{
    /// <summary>Gets the fencing token this acquisition of one key was issued, or <see langword="null"/> when the stage issues none.</summary>
    /// <value>A number that strictly increases with every acquisition of the same key. Default: <see langword="null"/>.</value>
    public virtual long? FencingToken => null;

    /// <summary>Gets the fencing token of each key a multi-key acquisition locked, in <see cref="LockContext.Keys"/> order.</summary>
    /// <value>
    /// Default: <see langword="null"/> (the stage issues none, or this handle holds one key and reports
    /// <see cref="FencingToken"/>). A stage that locks a set in one step returns it, as does the handle of
    /// <see cref="LockStage.AcquireEachKeyAsync"/> from its keys' own tokens.
    /// </value>
    public virtual IReadOnlyList<long?>? FencingTokens => null;

    /// <summary>Gets a token that fires when the stage learns that its lock was lost while held.</summary>
    /// <value>Default: <see cref="CancellationToken.None"/> (a lock that cannot be lost).</value>
    public virtual CancellationToken LeaseLost => CancellationToken.None;

    /// <summary>Gets a value indicating whether the acquisition had to wait for another holder.</summary>
    /// <value>Feeds the <c>duallock.acquire.contended</c> counter. Default: <see langword="false"/>.</value>
    public virtual bool Contended => false;

    /// <summary>
    /// Tells the handle that its lock is no longer current although the stage did not notice: a stage inside it
    /// refused the fencing token this acquisition issued (a later holder already wrote). Called by the pipeline,
    /// before <see cref="ReleaseAsync"/>.
    /// </summary>
    /// <remarks>
    /// A stage that passes a held lock on to its next local caller without asking its server must not pass this
    /// one on, and should report it through <see cref="LeaseLost"/>. The default does nothing (a lock that is
    /// never passed on is simply released).
    /// </remarks>
    public virtual void MarkSuperseded()
    {
    }

    /// <summary>
    /// Tells the handle that a stage inside it now excludes the same key in the database until its transaction
    /// ends (a row lock): the work can no longer overlap another holder's, whatever this lock does. Called by the
    /// pipeline once every stage is held, before the work starts, for a single-key execution only.
    /// </summary>
    /// <remarks>
    /// A stage with a local queue may then give its turn to the next local caller at once, who goes on to wait in
    /// the database's lock queue (one caller deep) instead of in the local queue: the database hands the row over
    /// at the commit, with no client round trip in between. The default does nothing.
    /// </remarks>
    internal virtual void OnInnerExclusionHeld()
    {
    }

    /// <summary>Releases the lock. Called once, after the work and after every inner stage was released.</summary>
    /// <param name="workSucceeded">
    /// <see langword="true"/> when the work returned normally (a transaction commits);
    /// <see langword="false"/> when it threw, was cancelled or never ran (a transaction rolls back).
    /// </param>
    /// <returns>A task that completes when the lock is released.</returns>
    /// <remarks>Takes no cancellation token on purpose: a release that is skipped leaves the lock held until its lease ends.</remarks>
    public abstract ValueTask ReleaseAsync(bool workSucceeded);
}
