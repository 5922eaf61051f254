using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// The open connection and transaction of an execution, provided by the transaction stage
/// (<see cref="MySqlPipelineBuilderExtensions.AddMySqlTransaction(LockPipelineBuilder, MySqlTransactionOptions)"/>)
/// to inner stages and to the work: <c>context.GetRequiredFeature&lt;MySqlTransactionFeature&gt;()</c>.
/// </summary>
/// <remarks>
/// In a pipeline the stage creates the feature and owns both: the work must not commit, roll back or dispose them. The
/// transaction commits when the work returns and rolls back when it throws or is cancelled.
/// </remarks>
public sealed class MySqlTransactionFeature
{
    /// <summary>
    /// Initializes a new instance of the <see cref="MySqlTransactionFeature"/> class over a connection and transaction
    /// the caller opened: for a unit test of work written for a pipeline (<c>DualLock.Testing</c>'s
    /// <c>LockContextBuilder.WithFeature</c>), where the test, not a stage, commits or rolls back and disposes both.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="transaction">A transaction begun on <paramref name="connection"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="transaction"/> does not belong to <paramref name="connection"/> (or has ended).</exception>
    public MySqlTransactionFeature(MySqlConnection connection, MySqlTransaction transaction)
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
    public MySqlConnection Connection { get; }

    /// <summary>Gets the transaction the work's statements run in.</summary>
    public MySqlTransaction Transaction { get; }
}
