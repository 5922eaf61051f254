namespace DualLock;

/// <summary>Options of the in-process semaphore stage (<see cref="SemaphorePipelineBuilderExtensions.AddInProcessSemaphore"/>).</summary>
public sealed class SemaphoreOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="SemaphoreOptions"/> class; the stage name defaults to <c>semaphore</c>.</summary>
    public SemaphoreOptions()
        : base("semaphore")
    {
    }

    /// <summary>Gets or sets how many callers may hold one key at once.</summary>
    /// <value>Default: 1. At least 1.</value>
    public int Permits { get; set; } = 1;

    /// <summary>Gets or sets how many callers may hold or wait for one key at once; more are refused at once.</summary>
    /// <value>Default: 1,024. At least <see cref="Permits"/>.</value>
    public int MaxQueueLength { get; set; } = 1024;

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        var check = OptionChecks.For(this, problems);
        if (check.AtLeast(nameof(Permits), Permits, 1))
        {
            check.That(MaxQueueLength >= Permits, nameof(MaxQueueLength), MaxQueueLength, $"must be at least Permits ({Permits})");
        }
    }
}
