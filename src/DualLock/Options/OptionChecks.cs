using System.Globalization;

namespace DualLock;

/// <summary>
/// The checks every DualLock options class validates with. Each failed check adds one problem naming the
/// option by its path (<c>RedisLockOptions.Lease</c>), the rule and the value it had, so a caller sees every
/// problem at once. The message of each rule is written here only.
/// </summary>
/// <param name="problems">Where the problems are collected.</param>
/// <param name="path">The options' path, prefixed to every property: the type name, or the path of an outer options object and the property holding these.</param>
internal readonly struct OptionChecks(ICollection<string> problems, string path)
{
    /// <summary>Gets the path prefixed to every property.</summary>
    public string Path => path;

    /// <summary>The checks of <paramref name="options"/>, whose problems are named after its type.</summary>
    public static OptionChecks For(object options, ICollection<string> problems) => new(problems, options.GetType().Name);

    /// <summary>The checks of an options object held by <paramref name="property"/> of these: its problems are named <c>Outer.Property.Inner</c>.</summary>
    public OptionChecks Nested(string property) => new(problems, $"{path}.{property}");

    /// <summary>
    /// Throws one <see cref="ArgumentException"/> listing every problem, when there is any: the way a builder
    /// reports invalid options when they are added.
    /// </summary>
    /// <param name="problems">What <c>Validate</c> found.</param>
    /// <param name="subject">What the options configure, for example <c>Pipeline 'charge', stage 'redis'</c>.</param>
    /// <param name="parameterName">The parameter the options came in.</param>
    public static void ThrowIfAny(IReadOnlyCollection<string> problems, string subject, string? parameterName = "options")
    {
        if (problems.Count == 0)
        {
            return;
        }

        var noun = problems.Count == 1 ? "problem" : "problems";
        throw new ArgumentException($"{subject}: {problems.Count} invalid option {noun}:{Environment.NewLine}- {string.Join(Environment.NewLine + "- ", problems)}", parameterName);
    }

    /// <summary>Runs <paramref name="validate"/> and throws as <see cref="ThrowIfAny(IReadOnlyCollection{string}, string, string?)"/> does.</summary>
    public static void ThrowIfAny(Action<ICollection<string>> validate, string subject, string? parameterName = "options")
    {
        var problems = new List<string>();
        validate(problems);
        ThrowIfAny(problems, subject, parameterName);
    }

    /// <summary>Adds a problem unless <paramref name="valid"/>: <c>Path.Property rule (was value); why.</c></summary>
    /// <param name="valid">Whether the option follows the rule.</param>
    /// <param name="property">The option's property name.</param>
    /// <param name="value">The value it had.</param>
    /// <param name="rule">The rule, starting with a verb: <c>must be at least 1</c>.</param>
    /// <param name="why">What the rule protects, when that is not obvious.</param>
    /// <returns><paramref name="valid"/>, so a dependent check can be skipped.</returns>
    public bool That(bool valid, string property, object? value, string rule, string? why = null)
    {
        if (!valid)
        {
            problems.Add(why is null ? $"{path}.{property} {rule} (was {Format(value)})." : $"{path}.{property} {rule} (was {Format(value)}); {why}.");
        }

        return valid;
    }

    /// <summary>As <see cref="That"/>, for a value that must not appear in a message (a connection string may hold a password).</summary>
    public bool ThatHidden(bool valid, string property, string rule)
    {
        if (!valid)
        {
            problems.Add($"{path}.{property} {rule}; its value is not shown.");
        }

        return valid;
    }

    /// <summary>A text that must have a character other than whitespace.</summary>
    public bool NotEmpty(string property, string? value) => That(!string.IsNullOrWhiteSpace(value), property, value, "must not be empty");

    /// <summary>A count of at least <paramref name="min"/>.</summary>
    public bool AtLeast(string property, int value, int min) => That(value >= min, property, value, $"must be at least {min}");

    /// <summary>A count between <paramref name="min"/> and <paramref name="max"/>, both included.</summary>
    public bool Between(string property, int value, int min, int max)
        => That(value >= min && value <= max, property, value, $"must be between {min} and {max}");

    /// <summary>A duration longer than zero.</summary>
    public bool Positive(string property, TimeSpan value) => That(value > TimeSpan.Zero, property, value, "must be positive");

    /// <summary>A duration between <paramref name="min"/> and <paramref name="max"/>, both included; <paramref name="why"/> says what the bound protects.</summary>
    public bool Between(string property, TimeSpan value, TimeSpan min, TimeSpan max, string? why = null)
        => That(value >= min && value <= max, property, value, $"must be between {Format(min)} and {Format(max)}", why);

    /// <summary>A duration shorter than <paramref name="bound"/>, named <paramref name="boundName"/>.</summary>
    public bool ShorterThan(string property, TimeSpan value, string boundName, TimeSpan bound)
        => That(value < bound, property, value, $"must be shorter than {boundName} ({Format(bound)})");

    /// <summary>A value of a defined member of <typeparamref name="TEnum"/>.</summary>
    public bool Defined<TEnum>(string property, TEnum value)
        where TEnum : struct, Enum
        => That(Enum.IsDefined(value), property, value, $"must be a defined {typeof(TEnum).Name}");

    /// <summary>Formats a value for a message: durations readably, texts quoted, numbers invariant.</summary>
    internal static string Format(object? value) => value switch
    {
        null => "null",
        string text => $"'{text}'",
        TimeSpan duration => Format(duration),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Format(TimeSpan value)
    {
        if (value > TimeSpan.Zero && value < TimeSpan.FromSeconds(1))
        {
            return $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
        }

        if (value >= TimeSpan.FromSeconds(1) && value < TimeSpan.FromMinutes(1))
        {
            return $"{value.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
        }

        return value.ToString("c", CultureInfo.InvariantCulture);
    }

    /// <summary>The rule of a first and a longest backoff (properties <c>RetryDelay</c> and <c>MaxRetryDelay</c>), shared by every options class that retries.</summary>
    public void RetryDelays(TimeSpan retryDelay, TimeSpan maxRetryDelay)
    {
        if (Between("MaxRetryDelay", maxRetryDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10)))
        {
            Between("RetryDelay", retryDelay, TimeSpan.FromMilliseconds(1), maxRetryDelay, "the upper bound is MaxRetryDelay");
        }
    }
}
