namespace DualLock;

/// <summary>
/// The work ran and its commit was sent, but the connection broke before the database answered: the writes may or may
/// not be committed, and nothing this process can ask now tells which.
/// </summary>
/// <remarks>
/// Thrown by a stage whose release is the commit (a transaction stage) in place of the driver's connection error, so
/// the caller never reads it as "nothing was changed". Every outer lock is still released. Before retrying, find out
/// (an idempotency key stored in the same transaction answers it); a blind retry may apply the work twice. A commit the
/// database refused with an answer (a known outcome: rolled back) is not this exception.
/// </remarks>
public sealed class LockCommitOutcomeUnknownException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockCommitOutcomeUnknownException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The stage whose commit lost its answer.</param>
    /// <param name="elapsed">The time spent in the pipeline, the work included.</param>
    /// <param name="innerException">The driver's failure.</param>
    public LockCommitOutcomeUnknownException(string resource, string stage, TimeSpan elapsed, Exception innerException)
        : base(
            $"The '{stage}' commit for resource '{resource}' lost its connection before the database answered (after {Ms(elapsed)}): the work's writes may or may not be committed; find out before retrying. {innerException?.Message}",
            resource,
            stage,
            elapsed,
            innerException)
    {
    }
}
