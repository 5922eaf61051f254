namespace DualLock;

/// <summary>Adds an in-process semaphore stage to a pipeline.</summary>
public static class SemaphorePipelineBuilderExtensions
{
    /// <summary>
    /// Adds a semaphore per key inside this process: at most <see cref="SemaphoreOptions.Permits"/> callers
    /// hold a key at once, the others wait in arrival order (bounded by the pipeline's wait).
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here. Default: <see cref="SemaphoreOptions"/> defaults (one permit).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static LockPipelineBuilder AddInProcessSemaphore(this LockPipelineBuilder builder, SemaphoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddStage(
            options ?? new SemaphoreOptions(),
            static (context, o) => new InProcessGateStage(o.Name, FairGate.Registry(o.Permits), exclusive: false, o.MaxQueueLength, context.TimeProvider));
    }
}
