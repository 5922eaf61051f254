namespace DualLock;

/// <summary>A lock service (a Redis server) a stage knows to be down: since when, and the last failure seen.</summary>
public sealed class LockServiceOutage
{
    /// <summary>Initializes a new instance of the <see cref="LockServiceOutage"/> class.</summary>
    /// <param name="since">When the stage learnt of the outage.</param>
    /// <param name="reason">The last failure's message.</param>
    public LockServiceOutage(DateTimeOffset since, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Since = since;
        Reason = reason;
    }

    /// <summary>Gets when the stage learnt of the outage: the first call that failed, or now for a connection that reports no server before any call failed.</summary>
    public DateTimeOffset Since { get; }

    /// <summary>Gets the last failure's message (never a key's id).</summary>
    public string Reason { get; }
}
