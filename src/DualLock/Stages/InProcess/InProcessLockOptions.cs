namespace DualLock;

/// <summary>Options of the <see cref="InProcessLockStage"/>.</summary>
public sealed class InProcessLockOptions
{
    /// <summary>Gets or sets the stage name.</summary>
    /// <value>Default: <c>in-process</c>.</value>
    public string Name { get; set; } = "in-process";

    /// <summary>Gets or sets how many callers may hold or wait for one key at once; more are refused at once.</summary>
    /// <value>Default: 1,024. A refused caller gets a <see cref="LockTimeoutException"/> without waiting.</value>
    public int MaxQueueLength { get; set; } = 1024;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("InProcessLockOptions.Name must not be empty.");
        }

        if (MaxQueueLength < 1)
        {
            throw new ArgumentException($"InProcessLockOptions.MaxQueueLength must be at least 1 (was {MaxQueueLength}).");
        }
    }
}
