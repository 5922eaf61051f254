namespace DualLock;

/// <summary>Adds the in-process lock stage to a pipeline.</summary>
public static class InProcessPipelineBuilderExtensions
{
    /// <summary>
    /// Adds a per-key lock inside this process: correct for one instance only, the cheapest stage in
    /// front of a distributed one. Waiters are served in arrival order; an idle key costs no memory.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options, copied and validated here. Default: <see cref="InProcessLockOptions"/> defaults.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static LockPipelineBuilder AddInProcessLock(this LockPipelineBuilder builder, InProcessLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddStage(options ?? new InProcessLockOptions(), static (_, o) => new InProcessLockStage(o));
    }
}
