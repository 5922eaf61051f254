namespace DualLock;

/// <summary>
/// A row lock stage found no row for the key, so there was nothing to lock: not a timeout, and retrying will not help
/// until the row exists. The transaction was rolled back. One type for every database, so that an HTTP layer answers
/// 404 for all of them (DualLock.MySql and DualLock.PostgreSql derive from it).
/// </summary>
public abstract class LockRowNotFoundException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="LockRowNotFoundException"/> class.</summary>
    /// <param name="message">The message; it names the resource, the stage and the table, never the id.</param>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The row lock stage.</param>
    /// <param name="elapsed">The time from the start of the stage to the empty result.</param>
    /// <param name="target">Where the row was looked for (table and key column); never the id itself.</param>
    protected LockRowNotFoundException(string message, string resource, string stage, TimeSpan elapsed, string target)
        : base(message, resource, stage, elapsed, null)
    {
        Target = target;
    }

    /// <summary>Gets where the row was looked for (table and key column, or "the configured statement").</summary>
    public string Target { get; }
}
