namespace DualLock.Testing;

/// <summary>How <see cref="FakeLockStrategy"/> fails a call it was told to fail, mirroring what a real pipeline reports.</summary>
public enum FakeLockFailure
{
    /// <summary>
    /// Not acquired within the wait; the work does not run. <c>ExecuteAsync</c> throws <see cref="LockTimeoutException"/>,
    /// <c>TryExecuteAsync</c> reports <c>Acquired == false</c> (as a pipeline does).
    /// </summary>
    Timeout,

    /// <summary>The lock service could not be reached; the work does not run; <see cref="LockUnavailableException"/>.</summary>
    Unavailable,

    /// <summary>
    /// The lock is lost while the work runs: the work's token and <see cref="LockContext.LeaseLost"/> are already
    /// cancelled when it starts, and the call throws <see cref="LockLeaseLostException"/> whether the work returns or
    /// stops on its token (a real pipeline rolls the transaction back).
    /// </summary>
    LeaseLost,

    /// <summary>
    /// The work runs, then the commit loses its connection: <see cref="LockCommitOutcomeUnknownException"/>, the case a
    /// caller must not treat as "nothing changed".
    /// </summary>
    CommitOutcomeUnknown,

    /// <summary>
    /// The work runs and commits, then a lock's release fails: the call returns the work's result, as a pipeline does
    /// (it logs and counts the release failure, never throws it). Recorded in <see cref="FakeLockCall.Failure"/>.
    /// </summary>
    ReleaseFailedAfterCommit,

    /// <summary>Every optimistic attempt conflicted; the work does not run; <see cref="LockConflictException"/>.</summary>
    Conflict,
}
