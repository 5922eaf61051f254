namespace DualLock;

/// <summary>Options of a pipeline registered through DI; bind them from configuration by pipeline name.</summary>
public sealed class LockPipelineOptions
{
    /// <summary>The default wait timeout: 2 seconds.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long an execution may wait, in total, to acquire every stage.</summary>
    /// <value>Default: 2 seconds. Between zero (try once) and <see cref="LockPipeline.MaxWaitTimeout"/>.</value>
    public TimeSpan WaitTimeout { get; set; } = DefaultWaitTimeout;

    /// <summary>Returns the first problem with a pipeline name and wait timeout, or <see langword="null"/>.</summary>
    internal static string? Problem(string? name, TimeSpan waitTimeout)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "The pipeline name must not be empty.";
        }

        if (waitTimeout < TimeSpan.Zero || waitTimeout > LockPipeline.MaxWaitTimeout)
        {
            return $"Pipeline '{name}': WaitTimeout must be between 00:00:00 and {LockPipeline.MaxWaitTimeout:c} (was {waitTimeout:c}); waits are bounded.";
        }

        return null;
    }

    internal static void Validate(string? name, TimeSpan waitTimeout)
    {
        if (Problem(name, waitTimeout) is { } problem)
        {
            throw new ArgumentException(problem);
        }
    }
}
