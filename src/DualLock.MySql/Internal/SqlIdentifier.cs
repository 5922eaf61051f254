using System.Text.RegularExpressions;

namespace DualLock.MySql;

/// <summary>Validates and quotes table and column names taken from options; values are always parameters.</summary>
internal static partial class SqlIdentifier
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Returns the problem with <paramref name="value"/> as an identifier for <paramref name="option"/>, or <see langword="null"/>.</summary>
    public static string? Problem(string? value, string option)
        => value is not null && Pattern().IsMatch(value)
            ? null
            : $"{option} must be a plain SQL identifier (a letter or '_', then letters, digits or '_', at most 64 characters); was '{value}'.";

    /// <summary>Backquotes an identifier that <see cref="Problem"/> accepted.</summary>
    public static string Quote(string value) => $"`{value}`";
}
