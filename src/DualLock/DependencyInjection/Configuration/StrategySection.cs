using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace DualLock;

/// <summary>
/// One strategy's configuration section (<c>DualLock:Strategies:charge</c>), read by hand so binding stays trim-safe:
/// every read collects a problem named by the section path instead of throwing, so one message lists them all.
/// </summary>
internal sealed class StrategySection(string name, IConfigurationSection section)
{
    /// <summary>The keys every kind accepts.</summary>
    public static readonly string[] CommonKeys = ["Kind", "WaitTimeout"];

    public string Name => name;

    public string Path => section.Path;

    public string? Kind => section["Kind"];

    public List<string> Problems { get; } = [];

    public string? String(string key) => section[key] is { Length: > 0 } value ? value : null;

    public int? Int(string key) => Parse<int>(key, "a whole number", static v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null);

    public TimeSpan? Duration(string key) => Parse<TimeSpan>(key, "a duration such as 00:00:02", static v => TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var d) ? d : null);

    public TEnum? Enum<TEnum>(string key)
        where TEnum : struct, Enum
        => Parse<TEnum>(key, $"one of {string.Join(", ", System.Enum.GetNames<TEnum>())}", static v => System.Enum.TryParse<TEnum>(v, ignoreCase: true, out var e) && System.Enum.IsDefined(e) ? e : null);

    /// <summary>A problem for every key this kind does not read: a typo must not be ignored silently.</summary>
    public void OnlyKeys(IReadOnlyCollection<string> kindKeys)
    {
        foreach (var child in section.GetChildren())
        {
            if (!CommonKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase) && !kindKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                Problems.Add($"{child.Path} is not a setting of kind '{Kind}' (its settings: {string.Join(", ", CommonKeys.Concat(kindKeys))}).");
            }
        }
    }

    /// <summary>Adds an options object's own problems (<c>InProcessLockOptions.MaxQueueLength must be ...</c>) under this section's path.</summary>
    public void AddAll(IEnumerable<string> problems)
    {
        foreach (var problem in problems)
        {
            Problems.Add($"{Path}: {problem}");
        }
    }

    /// <summary>Throws one <see cref="ArgumentException"/> naming the section and every problem, when there is any.</summary>
    public void ThrowIfAny() => OptionChecks.ThrowIfAny(Problems, $"Strategy '{Name}' (configuration section {Path})", parameterName: null);

    private T? Parse<T>(string key, string expected, Func<string, T?> parse)
        where T : struct
    {
        if (String(key) is not { } text)
        {
            return null;
        }

        if (parse(text) is { } value)
        {
            return value;
        }

        Problems.Add($"{section.Path}:{key} must be {expected} (was '{text}').");
        return null;
    }
}
