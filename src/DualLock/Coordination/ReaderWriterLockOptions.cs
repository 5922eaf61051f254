namespace DualLock;

/// <summary>Options of a <see cref="ReaderWriterLockStrategy"/>, in-process or distributed.</summary>
public sealed class ReaderWriterLockOptions
{
    /// <summary>Gets or sets the strategy name; its read and write pipelines are named <c>{Name}.read</c> and <c>{Name}.write</c>.</summary>
    /// <value>Default: <c>reader-writer</c>.</value>
    public string Name { get; set; } = "reader-writer";

    /// <summary>Gets or sets how long a reader or writer waits by default.</summary>
    /// <value>Default: 2 seconds. Between zero (try once) and <see cref="LockPipeline.MaxWaitTimeout"/>.</value>
    public TimeSpan WaitTimeout { get; set; } = LockPipelineOptions.DefaultWaitTimeout;

    /// <summary>Gets or sets how many callers may hold or wait for one key in this process at once; more are refused at once.</summary>
    /// <value>Default: 1,024.</value>
    public int MaxQueueLength { get; set; } = 1024;

    internal ReaderWriterLockOptions Validated()
    {
        var copy = (ReaderWriterLockOptions)MemberwiseClone();
        LockPipelineOptions.Validate(copy.Name, copy.WaitTimeout);
        if (copy.MaxQueueLength < 1)
        {
            throw new ArgumentException($"ReaderWriterLockOptions.MaxQueueLength must be at least 1 (was {copy.MaxQueueLength}).");
        }

        return copy;
    }
}
