using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// The open connection and transaction of an execution, provided by the transaction stage
/// (<see cref="MySqlPipelineBuilderExtensions.AddMySqlTransaction(LockPipelineBuilder, MySqlTransactionOptions)"/>)
/// to inner stages and to the work: <c>context.GetRequiredFeature&lt;MySqlTransactionFeature&gt;()</c>.
/// </summary>
/// <remarks>
/// The stage owns both: the work must not commit, roll back or dispose them. The transaction commits
/// when the work returns and rolls back when it throws or is cancelled.
/// </remarks>
public sealed class MySqlTransactionFeature
{
    internal MySqlTransactionFeature(MySqlConnection connection, MySqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>Gets the open connection; pass <see cref="Transaction"/> with every command on it.</summary>
    public MySqlConnection Connection { get; }

    /// <summary>Gets the transaction the work's statements run in.</summary>
    public MySqlTransaction Transaction { get; }
}
