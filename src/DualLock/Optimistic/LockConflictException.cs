namespace DualLock;

/// <summary>
/// Every attempt of an optimistic execution conflicted (see <see cref="ConflictRetryOptions"/>): the data changed
/// under each of them. No attempt was kept (each was rolled back); safe to retry later.
/// </summary>
public sealed class LockConflictException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockConflictException"/> class.</summary>
    /// <param name="resource">The resource type of the first key.</param>
    /// <param name="stage">The pipeline that ran the attempts.</param>
    /// <param name="elapsed">The time spent on every attempt and backoff.</param>
    /// <param name="attempts">How many attempts conflicted.</param>
    /// <param name="innerException">The last attempt's conflict.</param>
    public LockConflictException(string resource, string stage, TimeSpan elapsed, int attempts, Exception? innerException = null)
        : base(
            $"The optimistic update of resource '{resource}' by '{stage}' conflicted on all {attempts} attempts in {elapsed.TotalMilliseconds:0} ms; no attempt was kept.",
            resource,
            stage,
            elapsed,
            innerException)
    {
        Attempts = attempts;
    }

    /// <summary>Gets how many attempts conflicted.</summary>
    public int Attempts { get; }
}
