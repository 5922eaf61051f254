namespace DualLock;

public sealed partial class LockPipeline
{
    /// <summary>
    /// Gets what the stages know of their lock services now: which is known down since when and why, and whether the
    /// pipeline falls back without it. Makes no call to any service.
    /// </summary>
    /// <returns>The state; <see cref="LockServiceState.Status"/> sums it up (a dual strategy with Redis down is falling back, a distributed one unavailable).</returns>
    /// <remarks>
    /// Only stages that implement <see cref="ILockServiceMonitor"/> report outages (the Redis lock stage); a database
    /// stage's outage shows as its exceptions, not here.
    /// </remarks>
    public LockServiceState GetServiceState()
    {
        var stages = new LockStageState[_stages.Length];
        for (var i = 0; i < _stages.Length; i++)
        {
            var (stage, fallback) = _stages[i] is ContinueIfUnavailableStage optional ? (optional.Inner, true) : (_stages[i], false);
            stages[i] = new LockStageState(stage.Name, (stage as ILockServiceMonitor)?.CurrentOutage, fallback);
        }

        return new LockServiceState(Name, stages);
    }
}
