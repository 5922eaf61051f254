namespace UserPointApi.Api;

/// <summary>Ids are UUIDs, stored and returned in lower-case 8-4-4-4-12 form.</summary>
public static class Ids
{
    public static string New() => Guid.NewGuid().ToString("D");

    /// <summary>Parses a UUID in any form <see cref="Guid"/> accepts without braces; anything else is a 400.</summary>
    public static string ParseOrThrow(string? value, string name)
    {
        if (value is null || value.Length is < 32 or > 36 || !Guid.TryParseExact(value, value.Length == 32 ? "N" : "D", out var id))
        {
            throw ApiException.BadRequest($"'{name}' must be a UUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.");
        }

        return id.ToString("D");
    }
}
