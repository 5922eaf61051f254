namespace DualLock;

/// <summary>
/// How a pipeline re-runs the work after a lost compare-and-set (<see cref="OptimisticConflictException"/>, or a failure
/// <see cref="IsConflict"/> recognises): each attempt runs every stage again (a new transaction), after a full-jitter
/// exponential backoff, until one succeeds or <see cref="MaxAttempts"/> have conflicted.
/// </summary>
/// <remarks>Set on <see cref="LockPipelineBuilder.ConflictRetry"/>; validated and copied by <see cref="LockPipelineBuilder.Build"/>.</remarks>
public sealed class ConflictRetryOptions
{
    /// <summary>Gets or sets how many times the work may run before <see cref="LockConflictException"/> is thrown.</summary>
    /// <value>Default: 10. Between 1 and 10,000.</value>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Gets or sets the first backoff after a conflict; later ones double, with full jitter.</summary>
    /// <value>Default: 5 ms. At least 1 ms and at most <see cref="MaxRetryDelay"/>.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Gets or sets the longest backoff after a conflict.</summary>
    /// <value>Default: 200 ms. At most 10 s.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets what else, thrown by the work or a stage, counts as a conflict (for example a database deadlock).</summary>
    /// <value>Default: <see langword="null"/>: only <see cref="OptimisticConflictException"/>.</value>
    public Func<Exception, bool>? IsConflict { get; set; }

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    internal void Validate(ICollection<string> problems)
    {
        var check = OptionChecks.For(this, problems);
        check.Between(nameof(MaxAttempts), MaxAttempts, 1, 10_000);
        check.RetryDelays(RetryDelay, MaxRetryDelay);
    }

    /// <summary>A validated copy, so later changes by the caller do not reach a built pipeline.</summary>
    internal ConflictRetryOptions ValidatedCopy(string pipeline)
    {
        OptionChecks.ThrowIfAny(Validate, $"Pipeline '{pipeline}'", nameof(LockPipelineBuilder.ConflictRetry));
        return (ConflictRetryOptions)MemberwiseClone();
    }

    /// <summary>The backoff before attempt <paramref name="attempt"/> + 1: full jitter, so colliding writers spread out.</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(MaxRetryDelay.TotalMilliseconds, RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)));
#pragma warning disable CA5394 // jitter, not security
        return TimeSpan.FromMilliseconds(Math.Max(1, Random.Shared.NextDouble() * ceiling));
#pragma warning restore CA5394
    }

    internal bool Matches(Exception exception)
        => exception is OptimisticConflictException || (IsConflict?.Invoke(exception) ?? false);
}
