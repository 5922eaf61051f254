using MySqlConnector;

namespace DualLock.MySql;

/// <summary>The check of a MySqlConnector connection string, shared by every MySQL options class.</summary>
internal static class ConnectionStringCheck
{
    /// <summary>
    /// Required, and parseable by MySqlConnector: a malformed string (an unknown keyword, a bad value) is an option
    /// problem when the options are validated, not a failure of the first request that opens a connection.
    /// </summary>
    public static bool ConnectionString(this OptionChecks check, string property, string? value)
    {
        if (!check.NotEmpty(property, value))
        {
            return false;
        }

        try
        {
            _ = new MySqlConnectionStringBuilder(value!);
            return true;
        }
        catch (ArgumentException ex)
        {
            // The value may hold a password: the parser's message names the offending keyword, not the value.
            return check.ThatHidden(false, property, $"must be a valid MySqlConnector connection string ({ex.Message})");
        }
    }
}
