namespace DualLock;

/// <summary>
/// Thrown by the work to say that its compare-and-set lost: the data changed since the work read it. A pipeline
/// built with <see cref="LockPipelineBuilder.ConflictRetry"/> rolls the attempt back (its stages release as failed)
/// and runs the work again; without it, the exception reaches the caller like any other failure of the work.
/// </summary>
/// <remarks>
/// The compare-and-set itself is the work's (<c>UPDATE ... WHERE id = @id AND version = @read</c>, no row changed:
/// throw this). Anything else the work did in the attempt must be undone by the rollback, or be safe to repeat.
/// </remarks>
public sealed class OptimisticConflictException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="OptimisticConflictException"/> class.</summary>
    public OptimisticConflictException()
        : this("The data changed since the work read it: its compare-and-set lost.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OptimisticConflictException"/> class.</summary>
    /// <param name="message">What conflicted.</param>
    public OptimisticConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OptimisticConflictException"/> class.</summary>
    /// <param name="message">What conflicted.</param>
    /// <param name="innerException">The failure that is a conflict, for example a database deadlock.</param>
    public OptimisticConflictException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
