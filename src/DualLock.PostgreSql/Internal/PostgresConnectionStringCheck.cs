using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>The check of an Npgsql connection string, shared by every PostgreSQL options class.</summary>
internal static class PostgresConnectionStringCheck
{
    /// <summary>
    /// Required, and parseable by Npgsql: a malformed string (an unknown keyword, a bad value) is an option problem
    /// when the options are validated, not a failure of the first request that opens a connection.
    /// </summary>
    public static bool ConnectionString(this OptionChecks check, string property, string? value)
    {
        if (!check.NotEmpty(property, value))
        {
            return false;
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(value!);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            // The value may hold a password: the parser's message names the offending keyword, not the value.
            return check.ThatHidden(false, property, $"must be a valid Npgsql connection string ({ex.Message})");
        }
    }
}
