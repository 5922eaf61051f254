namespace DualLock;

/// <summary>Adds the no-lock stage to a pipeline.</summary>
public static class NoLockPipelineBuilderExtensions
{
    /// <summary>
    /// Adds a stage that locks nothing: the negative control of comparisons (a pipeline with only
    /// this stage must lose updates under concurrency), or a named place in the metrics for work
    /// that needs no lock (an atomic conditional update).
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="name">The stage name. Default: <c>none</c>.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddNoLock(this LockPipelineBuilder builder, string name = "none")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.AddStage(new NoLockStage(name));
    }
}
