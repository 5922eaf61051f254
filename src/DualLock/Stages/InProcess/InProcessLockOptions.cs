namespace DualLock;

/// <summary>Options of the in-process lock stage (<see cref="InProcessPipelineBuilderExtensions.AddInProcessLock"/>).</summary>
public sealed class InProcessLockOptions : LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="InProcessLockOptions"/> class; the stage name defaults to <c>in-process</c>.</summary>
    public InProcessLockOptions()
        : base("in-process")
    {
    }

    /// <summary>Gets or sets how many callers may hold or wait for one key at once; more are refused at once.</summary>
    /// <value>Default: 1,024. At least 1. A refused caller gets a <see cref="LockTimeoutException"/> without waiting.</value>
    public int MaxQueueLength { get; set; } = 1024;

    /// <inheritdoc />
    protected override void Validate(ICollection<string> problems)
    {
        base.Validate(problems);
        OptionChecks.For(this, problems).AtLeast(nameof(MaxQueueLength), MaxQueueLength, 1);
    }
}
