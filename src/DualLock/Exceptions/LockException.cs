namespace DualLock;

/// <summary>The base of every failure DualLock reports about a lock (not about the work it protects).</summary>
public abstract class LockException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="LockException"/> class.</summary>
    /// <param name="message">The message; it should name the resource, the stage and the elapsed time.</param>
    /// <param name="resource">The resource type of the key, never the id (ids may be personal data).</param>
    /// <param name="stage">The name of the stage that failed.</param>
    /// <param name="elapsed">The time spent before the failure.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    protected LockException(string message, string resource, string stage, TimeSpan elapsed, Exception? innerException)
        : base(message, innerException)
    {
        Resource = resource;
        Stage = stage;
        Elapsed = elapsed;
    }

    /// <summary>Gets the resource type of the lock key.</summary>
    public string Resource { get; }

    /// <summary>Gets the name of the stage that failed.</summary>
    public string Stage { get; }

    /// <summary>Gets the time spent in the pipeline before the failure.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Formats a duration the same way in every message.</summary>
    internal static string Ms(TimeSpan value) => $"{value.TotalMilliseconds:0} ms";
}
