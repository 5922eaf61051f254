using System.Diagnostics.CodeAnalysis;
using System.Reflection;
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
    /// <param name="parameters">
    /// The parameters, named as in the statement without the <c>@</c>: an object whose public properties are the
    /// values (an anonymous object or a record, passed as its own type), a dictionary of names and values,
    /// <see cref="MySqlParameter"/>s, or <see langword="null"/> for none.
    /// </param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <typeparam name="TParameters">The type of <paramref name="parameters"/>; its public properties are read (kept when trimmed).</typeparam>
    /// <returns><see langword="true"/> when the statement changed a row; <see langword="false"/> on a conflict (the work should return).</returns>
    public async ValueTask<bool> CompareAndSetAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TParameters>(
        string sql, TParameters parameters, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        var command = MySqlCommands.Create(Connection, sql, Transaction);
        AddParameters(command, parameters);
        var affected = await command.NonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (affected == 0)
        {
            ReportConflict();
            return false;
        }

        return true;
    }

    private static void AddParameters<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TParameters>(MySqlCommand command, TParameters parameters)
    {
        switch (parameters)
        {
            case null:
                return;
            case MySqlParameter parameter:
                command.Parameters.Add(parameter);
                return;
            case IEnumerable<MySqlParameter> list:
                foreach (var parameter in list)
                {
                    command.Parameters.Add(parameter);
                }

                return;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach (var (name, value) in pairs)
                {
                    command.With(name, value);
                }

                return;
        }

        // Only the static type's properties are kept by the trimmer: a value passed as a base type or object cannot be read safely.
        if (parameters.GetType() != typeof(TParameters))
        {
            throw new ArgumentException(
                $"The parameters are a {parameters.GetType().Name} passed as {typeof(TParameters).Name}: pass them as their own type (an anonymous object or record), a dictionary or MySqlParameters.",
                nameof(parameters));
        }

        foreach (var property in typeof(TParameters).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.CanRead && property.GetIndexParameters().Length == 0)
            {
                command.With(property.Name, property.GetValue(parameters));
            }
        }
    }
}
