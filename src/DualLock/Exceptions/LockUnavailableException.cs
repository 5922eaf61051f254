namespace DualLock;

/// <summary>The service that keeps the lock (Redis, the database) could not be reached or did not answer in time.</summary>
/// <remarks>
/// Distinct from <see cref="LockTimeoutException"/>: nobody holds the lock, the lock service is down.
/// A pipeline never reports success when this is thrown.
/// </remarks>
public sealed class LockUnavailableException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockUnavailableException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The stage whose lock service is unavailable.</param>
    /// <param name="elapsed">The time spent before giving up.</param>
    /// <param name="innerException">The client's failure.</param>
    public LockUnavailableException(string resource, string stage, TimeSpan elapsed, Exception? innerException = null)
        : base(
            $"The '{stage}' lock service is unavailable for resource '{resource}' (gave up after {Ms(elapsed)}): {innerException?.Message ?? "no answer"}",
            resource,
            stage,
            elapsed,
            innerException)
    {
    }
}
