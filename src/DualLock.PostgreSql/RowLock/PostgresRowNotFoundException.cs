namespace DualLock.PostgreSql;

/// <summary>
/// The row lock stage found no row for the key, so there was nothing to lock. Not a timeout: retrying will not help
/// until the row exists. The transaction was rolled back.
/// </summary>
public sealed class PostgresRowNotFoundException : LockRowNotFoundException
{
    /// <summary>Initializes a new instance of the <see cref="PostgresRowNotFoundException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The row lock stage.</param>
    /// <param name="elapsed">The time from the start of the stage to the empty result.</param>
    /// <param name="target">Where the row was looked for, for example <c>"account"."id"</c>; never the id itself.</param>
    public PostgresRowNotFoundException(string resource, string stage, TimeSpan elapsed, string target)
        : base(
            $"The '{stage}' stage found no row to lock for resource '{resource}' in {target}: insert the row before locking it, or use an advisory lock for resources without a row.",
            resource,
            stage,
            elapsed,
            target)
    {
    }
}
