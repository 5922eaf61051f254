namespace DualLock.MySql;

/// <summary>
/// Every attempt of an optimistic execution lost its compare-and-set: the resource changed under
/// each of them. Nothing was committed; safe to retry later.
/// </summary>
public sealed class MySqlOptimisticConflictException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="MySqlOptimisticConflictException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The executor's name.</param>
    /// <param name="elapsed">The time spent on every attempt.</param>
    /// <param name="attempts">How many attempts conflicted.</param>
    /// <param name="innerException">The last server error when the last conflict was a deadlock or lock-wait timeout.</param>
    public MySqlOptimisticConflictException(string resource, string stage, TimeSpan elapsed, int attempts, Exception? innerException = null)
        : base(
            $"The '{stage}' optimistic update of resource '{resource}' conflicted on all {attempts} attempts in {elapsed.TotalMilliseconds:0} ms; nothing was committed.",
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
