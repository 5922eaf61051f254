namespace DualLock;

/// <summary>
/// What a pipeline's stages know of their lock services now (<see cref="LockPipeline.GetServiceState"/>): the public
/// outage state health checks are built on.
/// </summary>
public sealed class LockServiceState
{
    internal LockServiceState(string pipeline, IReadOnlyList<LockStageState> stages)
    {
        Pipeline = pipeline;
        Stages = stages;
        Status = StatusOf(stages);
    }

    /// <summary>Gets the pipeline name.</summary>
    public string Pipeline { get; }

    /// <summary>Gets every stage's state, outermost first.</summary>
    public IReadOnlyList<LockStageState> Stages { get; }

    /// <summary>Gets what the pipeline can do now.</summary>
    /// <value>
    /// <see cref="LockServiceStatus.Unavailable"/> when a stage without a fallback knows its service is down,
    /// else <see cref="LockServiceStatus.FallingBack"/> when any stage does, else <see cref="LockServiceStatus.Available"/>.
    /// </value>
    public LockServiceStatus Status { get; }

    private static LockServiceStatus StatusOf(IReadOnlyList<LockStageState> stages)
    {
        var status = LockServiceStatus.Available;
        foreach (var stage in stages)
        {
            if (stage.Outage is null)
            {
                continue;
            }

            if (!stage.ContinuesIfUnavailable)
            {
                return LockServiceStatus.Unavailable;
            }

            status = LockServiceStatus.FallingBack;
        }

        return status;
    }
}
