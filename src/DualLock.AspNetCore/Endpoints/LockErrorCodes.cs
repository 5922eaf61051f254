namespace DualLock.AspNetCore;

/// <summary>
/// The <c>code</c> of DualLock's problem details (<c>AddDualLockProblemDetails</c>): stable, for clients to switch on
/// (never the message). The same codes the sample's error envelope uses; docs/failures.md lists them.
/// </summary>
public static class LockErrorCodes
{
    /// <summary>503: the lock was not acquired within the wait (or every optimistic attempt conflicted, or the database refused the lock); nothing was changed.</summary>
    public const string Timeout = "LOCK_TIMEOUT";

    /// <summary>503: a lock was lost while the work ran; the transaction was rolled back.</summary>
    public const string LeaseLost = "LOCK_LEASE_LOST";

    /// <summary>503: the lock service (Redis, the database's lock) could not be reached or is known down; nothing was changed.</summary>
    public const string Unavailable = "LOCK_UNAVAILABLE";

    /// <summary>503: the commit's connection broke before the database answered: the write may or may not have happened.</summary>
    public const string OutcomeUnknown = "G_OUTCOME_UNKNOWN";

    /// <summary>503: the database could not be reached; nothing was changed.</summary>
    public const string DatabaseUnavailable = "G_DATABASE_UNAVAILABLE";

    /// <summary>404: the row lock found no row for the key.</summary>
    public const string RowNotFound = "LOCK_ROW_NOT_FOUND";

    /// <summary>400: the route value a locked endpoint takes its key from is missing or cannot be a key id.</summary>
    public const string KeyInvalid = "LOCK_KEY_INVALID";
}
