using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>
/// The open connection and transaction of an execution, provided by the transaction stage
/// (<see cref="PostgresPipelineBuilderExtensions.AddPostgresTransaction(LockPipelineBuilder, PostgresTransactionOptions)"/>)
/// to inner stages and to the work: <c>context.GetRequiredFeature&lt;PostgresTransactionFeature&gt;()</c>.
/// </summary>
/// <remarks>
/// In a pipeline the stage creates the feature and owns both: the work must not commit, roll back or dispose them. The
/// transaction commits when the work returns and rolls back when it throws or is cancelled. A statement of the work that
/// fails aborts the whole transaction in PostgreSQL, even when the work catches the error: the stage then rolls back and
/// throws <see cref="PostgresTransactionAbortedException"/> instead of reporting a commit that did not happen.
/// </remarks>
public sealed class PostgresTransactionFeature
{
    /// <summary>
    /// Initializes a new instance of the <see cref="PostgresTransactionFeature"/> class over a connection and transaction
    /// the caller opened: for a unit test of work written for a pipeline, where the test, not a stage, commits or rolls
    /// back and disposes both.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="transaction">A transaction begun on <paramref name="connection"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="transaction"/> does not belong to <paramref name="connection"/> (or has ended).</exception>
    public PostgresTransactionFeature(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(transaction);
        if (!ReferenceEquals(transaction.Connection, connection))
        {
            throw new ArgumentException("The transaction was not begun on this connection, or it has already been committed or rolled back.", nameof(transaction));
        }

        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>Gets the open connection; pass <see cref="Transaction"/> with every command on it.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>Gets the transaction the work's statements run in.</summary>
    public NpgsqlTransaction Transaction { get; }
}
