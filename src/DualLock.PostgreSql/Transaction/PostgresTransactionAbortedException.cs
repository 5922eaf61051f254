namespace DualLock.PostgreSql;

/// <summary>
/// The work returned, but a statement of it had failed (and the work caught the error): PostgreSQL aborts the whole
/// transaction at the first failed statement and answers a COMMIT with a rollback. The stage found this at the commit
/// (SQLSTATE 25P02), rolled back and throws this instead of reporting a commit. Nothing the work wrote was kept.
/// </summary>
public sealed class PostgresTransactionAbortedException : LockException
{
    /// <summary>Initializes a new instance of the <see cref="PostgresTransactionAbortedException"/> class.</summary>
    /// <param name="resource">The resource type of the key.</param>
    /// <param name="stage">The transaction stage.</param>
    /// <param name="elapsed">The time from the start of the stage to the commit.</param>
    /// <param name="innerException">The server's 25P02 answer.</param>
    public PostgresTransactionAbortedException(string resource, string stage, TimeSpan elapsed, Exception innerException)
        : base(
            $"The '{stage}' stage could not commit on resource '{resource}': a statement of the work failed earlier and PostgreSQL aborted the transaction (SQLSTATE 25P02). It was rolled back; nothing the work wrote was kept. Let the error propagate, or use a SAVEPOINT around a statement that may fail.",
            resource,
            stage,
            elapsed,
            innerException)
    {
    }
}
