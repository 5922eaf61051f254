using System.Globalization;
using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>
/// The few statements the stages run, as plain <see cref="NpgsqlCommand"/>s: no reflection over parameter objects,
/// so the package stays trim- and AOT-safe.
/// </summary>
internal static class PostgresCommands
{
    /// <summary>Creates a command on <paramref name="connection"/>, in <paramref name="transaction"/> when it has one open.</summary>
    public static NpgsqlCommand Create(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null)
        => new(sql, connection, transaction);

    /// <summary>Adds a named parameter (the name without its <c>@</c>).</summary>
    public static NpgsqlCommand With<T>(this NpgsqlCommand command, string name, T value)
    {
        command.Parameters.Add(new NpgsqlParameter<T>(name, value));
        return command;
    }

    /// <summary>Runs the command and reads the first column of the first row as a 64-bit integer; <see langword="null"/> for no row or SQL NULL.</summary>
    public static async Task<long?> ScalarInt64Async(this NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Runs the command and returns the number of rows it changed.</summary>
    public static async Task<int> NonQueryAsync(this NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets <c>lock_timeout</c> back after a bounded locking statement, so the work's own statements wait as the server is configured to.</summary>
    public const string ResetLockTimeout = "SET LOCAL lock_timeout TO DEFAULT";

    /// <summary>Adds a parameter whose type the server infers from where it is used, so a text key compares with an integer or uuid column.</summary>
    public static NpgsqlCommand WithUntyped(this NpgsqlCommand command, string name, string value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Unknown) { Value = value });
        return command;
    }

    /// <summary>
    /// <c>SET LOCAL lock_timeout</c> for what is left of the wait, in whole milliseconds (at least 1: 0 would mean no
    /// bound at all). Local to the transaction, so a pooled connection goes back without it.
    /// </summary>
    public static string LockTimeout(TimeSpan remaining)
        => string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = {Math.Max(1, (long)Math.Ceiling(remaining.TotalMilliseconds))}");
}
