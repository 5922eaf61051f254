namespace DualLock;

/// <summary>Options of a pipeline registered through DI; bind them from configuration by pipeline name.</summary>
public sealed class LockPipelineOptions
{
    /// <summary>The default wait timeout: 2 seconds.</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long an execution may wait, in total, to acquire every stage.</summary>
    /// <value>Default: 2 seconds. Between zero (try once) and <see cref="LockPipeline.MaxWaitTimeout"/>.</value>
    public TimeSpan WaitTimeout { get; set; } = DefaultWaitTimeout;

    /// <summary>The rule of a pipeline's wait timeout, wherever it is set (these options, a builder, a reader-writer lock).</summary>
    internal static void Validate(OptionChecks check, TimeSpan waitTimeout)
        => check.Between(nameof(WaitTimeout), waitTimeout, TimeSpan.Zero, LockPipeline.MaxWaitTimeout, "waits are bounded");
}
