namespace DualLock;

/// <summary>
/// Implemented by a stage that knows when its lock service is down, so <see cref="LockPipeline.GetServiceState"/> can
/// report it (the Redis lock stage does: it fails acquires at once while it knows Redis is down).
/// </summary>
/// <remarks>A stage that does not implement it is reported as available: an outage it does not track shows as its exceptions only.</remarks>
public interface ILockServiceMonitor
{
    /// <summary>Gets the outage the stage knows of now, or <see langword="null"/> when its service answers (as far as it knows).</summary>
    /// <value>Read without a call to the service: cheap, and safe to read on every health check.</value>
    LockServiceOutage? CurrentOutage { get; }
}
