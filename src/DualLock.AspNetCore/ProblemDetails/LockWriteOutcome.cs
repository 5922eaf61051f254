namespace DualLock.AspNetCore;

/// <summary>What a failed request did to the data, as its problem details say it (<c>outcome</c>).</summary>
public enum LockWriteOutcome
{
    /// <summary>Nothing was written: the lock was never held, or the transaction rolled back. Safe to retry.</summary>
    NotApplied,

    /// <summary>The commit was sent and its answer lost: the write may have happened. Find out before retrying.</summary>
    Unknown,
}
