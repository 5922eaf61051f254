namespace DualLock;

/// <summary>What a pipeline can do now, from the outages its stages know of (<see cref="LockServiceState"/>).</summary>
public enum LockServiceStatus
{
    /// <summary>No stage knows of an outage.</summary>
    Available,

    /// <summary>Some stage's service is down, and each such stage is skipped (a dual strategy runs on its database lock alone): correct, without the outer lock's benefit.</summary>
    FallingBack,

    /// <summary>A stage's service is down and nothing lets the execution go on without it (a distributed strategy): every execution fails with <see cref="LockUnavailableException"/>.</summary>
    Unavailable,
}
