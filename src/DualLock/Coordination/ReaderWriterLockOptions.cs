namespace DualLock;

/// <summary>Options of a <see cref="ReaderWriterLockStrategy"/>, in-process or distributed.</summary>
public sealed class ReaderWriterLockOptions
{
    /// <summary>Gets or sets the lock's name; its read and write pipelines are named <c>{Name}.read</c> and <c>{Name}.write</c>.</summary>
    /// <value>Default: <c>reader-writer</c>. Must not be empty.</value>
    public string Name { get; set; } = "reader-writer";

    /// <summary>Gets or sets how long a reader or writer waits by default.</summary>
    /// <value>Default: 2 seconds. Between zero (try once) and <see cref="LockPipeline.MaxWaitTimeout"/>.</value>
    public TimeSpan WaitTimeout { get; set; } = LockPipelineOptions.DefaultWaitTimeout;

    /// <summary>Gets or sets how many callers may hold or wait for one key in this process at once; more are refused at once.</summary>
    /// <value>Default: 1,024. At least 1.</value>
    public int MaxQueueLength { get; set; } = 1024;

    /// <summary>A shallow copy; options hold only values.</summary>
    internal ReaderWriterLockOptions Copy() => (ReaderWriterLockOptions)MemberwiseClone();

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    internal void Validate(ICollection<string> problems)
    {
        var check = OptionChecks.For(this, problems);
        check.NotEmpty(nameof(Name), Name);
        LockPipelineOptions.Validate(check, WaitTimeout);
        check.AtLeast(nameof(MaxQueueLength), MaxQueueLength, 1);
    }
}
