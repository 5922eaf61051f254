using System.Text.RegularExpressions;

namespace DualLock.PostgreSql;

/// <summary>Validates and quotes table and column names taken from options; values are always parameters.</summary>
internal static partial class PostgresIdentifier
{
    // PostgreSQL keeps 63 bytes of an identifier (NAMEDATALEN - 1); a longer one would be cut silently.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Checks that option <paramref name="property"/> is a plain identifier, safe to put in a statement.</summary>
    public static bool Plain(this OptionChecks check, string property, string? value)
        => check.That(
            value is not null && Pattern().IsMatch(value),
            property,
            value,
            "must be a plain SQL identifier (a letter or '_', then letters, digits or '_', at most 63 characters)");

    /// <summary>
    /// Double-quotes an identifier that <see cref="Plain"/> accepted. Quoted, it keeps its case: a table created
    /// unquoted as <c>Account</c> is named <c>account</c> in PostgreSQL, so give the name as the catalog shows it.
    /// </summary>
    public static string Quote(string value) => $"\"{value}\"";
}
