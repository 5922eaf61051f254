namespace DualLock;

/// <summary>Adds an in-process semaphore stage to a pipeline.</summary>
public static class SemaphorePipelineBuilderExtensions
{
    /// <summary>
    /// Adds a semaphore per key inside this process: at most <see cref="SemaphoreOptions.Permits"/> callers
    /// hold a key at once, the others wait in arrival order (bounded by the pipeline's wait).
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, validated here. Default: <see cref="SemaphoreOptions"/> defaults (one permit).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static LockPipelineBuilder AddInProcessSemaphore(this LockPipelineBuilder builder, SemaphoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var validated = (options ?? new SemaphoreOptions()).Validated();
        var gates = new KeyedFairGates(validated.Permits);
        return builder.AddStage(context => new InProcessGateStage(validated.Name, gates, exclusive: false, validated.MaxQueueLength, context.TimeProvider));
    }
}
