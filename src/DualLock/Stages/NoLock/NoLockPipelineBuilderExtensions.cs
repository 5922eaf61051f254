namespace DualLock;

/// <summary>Adds the <see cref="NoLockStage"/> to a pipeline.</summary>
public static class NoLockPipelineBuilderExtensions
{
    /// <summary>Adds a stage that locks nothing: the negative control.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <returns>The builder.</returns>
    public static LockPipelineBuilder AddNoLock(this LockPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddStage(new NoLockStage());
    }
}
