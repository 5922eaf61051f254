namespace DualLock;

/// <summary>Options of a <see cref="LockCombiner{TItem, TResult}"/>.</summary>
public sealed class LockCombinerOptions
{
    /// <summary>The largest batch a combiner accepts as <see cref="MaxBatchSize"/>.</summary>
    public const int MaxAllowedBatchSize = 4096;

    /// <summary>Gets or sets the most items run in one critical section; the rest wait for the next one.</summary>
    /// <value>Default: 64. Between 1 (no combining) and <see cref="MaxAllowedBatchSize"/>.</value>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Gets or sets the time source for the queued items' wait deadlines.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>. Use the pipeline's.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    internal void Validate(ICollection<string> problems)
    {
        var check = OptionChecks.For(this, problems);
        check.Between(nameof(MaxBatchSize), MaxBatchSize, 1, MaxAllowedBatchSize);
        check.That(TimeProvider is not null, nameof(TimeProvider), TimeProvider, "must be set");
    }
}
