namespace DualLock;

/// <summary>The lock was held by someone else for the whole wait timeout.</summary>
/// <remarks>Safe to retry later: nothing was done under the lock.</remarks>
public sealed class LockTimeoutException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockTimeoutException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The stage that could not acquire its lock.</param>
    /// <param name="elapsed">The time waited.</param>
    /// <param name="waitTimeout">The wait timeout that expired.</param>
    /// <param name="innerException">The underlying failure, for example a database lock-wait timeout.</param>
    public LockTimeoutException(string resource, string stage, TimeSpan elapsed, TimeSpan waitTimeout, Exception? innerException = null)
        : base(
            $"Timed out acquiring the '{stage}' lock on resource '{resource}' after {Ms(elapsed)} (wait timeout {Ms(waitTimeout)}).",
            resource,
            stage,
            elapsed,
            innerException)
    {
        WaitTimeout = waitTimeout;
    }

    /// <summary>Gets the wait timeout that expired.</summary>
    public TimeSpan WaitTimeout { get; }
}
