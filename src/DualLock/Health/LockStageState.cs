namespace DualLock;

/// <summary>One stage's part of a <see cref="LockServiceState"/>.</summary>
public sealed class LockStageState
{
    internal LockStageState(string stage, LockServiceOutage? outage, bool continuesIfUnavailable)
    {
        Stage = stage;
        Outage = outage;
        ContinuesIfUnavailable = continuesIfUnavailable;
    }

    /// <summary>Gets the stage name.</summary>
    public string Stage { get; }

    /// <summary>Gets the outage of the stage's service the stage knows of, or <see langword="null"/>.</summary>
    public LockServiceOutage? Outage { get; }

    /// <summary>Gets a value indicating whether executions go on without this stage while its service is down (<see cref="LockPipelineBuilder.ContinueIfUnavailable()"/>, the dual preset's Redis lock).</summary>
    public bool ContinuesIfUnavailable { get; }
}
