using Dapper;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// One run of the work under <see cref="MySqlOptimisticExecutor"/>: a transaction of its own, and the
/// place to report that the compare-and-set lost (someone else changed the version first).
/// </summary>
public sealed class MySqlOptimisticAttempt
{
    internal MySqlOptimisticAttempt(LockKey key, int number, MySqlConnection connection, MySqlTransaction transaction)
    {
        Key = key;
        Number = number;
        Connection = connection;
        Transaction = transaction;
    }

    /// <summary>Gets the key of the resource.</summary>
    public LockKey Key { get; }

    /// <summary>Gets the attempt number, starting at 1.</summary>
    public int Number { get; }

    /// <summary>Gets the open connection; pass <see cref="Transaction"/> with every command.</summary>
    public MySqlConnection Connection { get; }

    /// <summary>Gets this attempt's transaction; the executor commits or rolls it back.</summary>
    public MySqlTransaction Transaction { get; }

    /// <summary>Gets a value indicating whether the attempt reported a lost compare-and-set; it is then rolled back and the work runs again.</summary>
    public bool Conflicted { get; private set; }

    /// <summary>Reports that the version changed under this attempt: its transaction is rolled back and the work re-run.</summary>
    public void ReportConflict() => Conflicted = true;

    /// <summary>
    /// Runs a compare-and-set statement, typically
    /// <c>UPDATE t SET value = @value, version = version + 1 WHERE id = @id AND version = @version</c>,
    /// in this attempt's transaction; no affected row reports a conflict.
    /// </summary>
    /// <param name="sql">The statement; its <c>WHERE</c> must compare the version read earlier.</param>
    /// <param name="parameters">The parameters, as for Dapper.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns><see langword="true"/> when the statement changed a row; <see langword="false"/> on a conflict (the work should return).</returns>
    public async ValueTask<bool> CompareAndSetAsync(string sql, object? parameters, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        var affected = await Connection.ExecuteAsync(new CommandDefinition(sql, parameters, Transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (affected == 0)
        {
            ReportConflict();
            return false;
        }

        return true;
    }
}
