namespace DualLock;

/// <summary>Adds the <see cref="InProcessLockStage"/> to a pipeline.</summary>
public static class InProcessPipelineBuilderExtensions
{
    /// <summary>Adds a per-key lock inside this process.</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options. Default: <see cref="InProcessLockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static LockPipelineBuilder AddInProcessLock(this LockPipelineBuilder builder, InProcessLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddStage(new InProcessLockStage(options));
    }
}
