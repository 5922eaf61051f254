using System.Globalization;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// The few statements the stages run, as plain <see cref="MySqlCommand"/>s: no reflection over parameter
/// objects, so the package stays trim- and AOT-safe.
/// </summary>
internal static class MySqlCommands
{
    /// <summary>Creates a command on <paramref name="connection"/>, in <paramref name="transaction"/> when it has one open.</summary>
    public static MySqlCommand Create(MySqlConnection connection, string sql, MySqlTransaction? transaction = null)
        => new(sql, connection, transaction);

    /// <summary>Adds a named parameter (the name without its <c>@</c>).</summary>
    public static MySqlCommand With(this MySqlCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>Runs the command and reads the first column of the first row as a 64-bit integer; <see langword="null"/> for no row or SQL NULL.</summary>
    public static async Task<long?> ScalarInt64Async(this MySqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Runs the command and returns the number of rows it changed.</summary>
    public static async Task<int> NonQueryAsync(this MySqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
