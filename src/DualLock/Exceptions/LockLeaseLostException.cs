namespace DualLock;

/// <summary>
/// The lock was lost while the work ran (its lease expired or was taken over), so the work's
/// effects were refused or rolled back.
/// </summary>
public sealed class LockLeaseLostException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockLeaseLostException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The stage that detected the loss.</param>
    /// <param name="elapsed">The time from the start of the pipeline to the detection.</param>
    /// <param name="reason">Why the lease is known to be lost.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public LockLeaseLostException(string resource, string stage, TimeSpan elapsed, string reason, Exception? innerException = null)
        : base(
            $"The '{stage}' lock on resource '{resource}' was lost after {Ms(elapsed)}: {reason}",
            resource,
            stage,
            elapsed,
            innerException)
    {
    }

    /// <summary>
    /// Gets the fencing token this holder was refused with, when a fence refused it (a newer holder's token had
    /// already been stored); <see langword="null"/> for a loss found any other way.
    /// </summary>
    /// <value>Set by the stage that enforces the fence; lets a caller or a checker tell which holder was refused without reading <see cref="Exception.Message"/>.</value>
    public long? RefusedFencingToken { get; init; }

    /// <summary>Gets the newer fencing token that was already stored when the fence refused this holder, or <see langword="null"/>.</summary>
    public long? NewerFencingToken { get; init; }
}
