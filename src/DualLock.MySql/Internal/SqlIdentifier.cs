using System.Text.RegularExpressions;

namespace DualLock.MySql;

/// <summary>Validates and quotes table and column names taken from options; values are always parameters.</summary>
internal static partial class SqlIdentifier
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Checks that option <paramref name="property"/> is a plain identifier, safe to put in a statement.</summary>
    public static bool Plain(this OptionChecks check, string property, string? value)
        => check.That(
            value is not null && Pattern().IsMatch(value),
            property,
            value,
            "must be a plain SQL identifier (a letter or '_', then letters, digits or '_', at most 64 characters)");

    /// <summary>Backquotes an identifier that <see cref="Plain"/> accepted.</summary>
    public static string Quote(string value) => $"`{value}`";
}
