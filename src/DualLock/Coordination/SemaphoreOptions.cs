namespace DualLock;

/// <summary>Options of the in-process semaphore stage (<see cref="SemaphorePipelineBuilderExtensions.AddInProcessSemaphore"/>).</summary>
public sealed class SemaphoreOptions
{
    /// <summary>Gets or sets the stage name.</summary>
    /// <value>Default: <c>semaphore</c>.</value>
    public string Name { get; set; } = "semaphore";

    /// <summary>Gets or sets how many callers may hold one key at once.</summary>
    /// <value>Default: 1. At least 1.</value>
    public int Permits { get; set; } = 1;

    /// <summary>Gets or sets how many callers may hold or wait for one key at once; more are refused at once.</summary>
    /// <value>Default: 1,024.</value>
    public int MaxQueueLength { get; set; } = 1024;

    internal SemaphoreOptions Validated()
    {
        var copy = (SemaphoreOptions)MemberwiseClone();
        if (string.IsNullOrWhiteSpace(copy.Name))
        {
            throw new ArgumentException("SemaphoreOptions.Name must not be empty.");
        }

        if (copy.Permits < 1)
        {
            throw new ArgumentException($"SemaphoreOptions.Permits must be at least 1 (was {copy.Permits}).");
        }

        if (copy.MaxQueueLength < copy.Permits)
        {
            throw new ArgumentException($"SemaphoreOptions.MaxQueueLength must be at least Permits ({copy.Permits}); was {copy.MaxQueueLength}.");
        }

        return copy;
    }
}
