namespace DualLock.Telemetry;

/// <summary>The values of the <see cref="DualLockTelemetry.OutcomeTag"/> tag on a <see cref="DualLockTelemetry.ReleaseSpan"/>.</summary>
public static class ReleaseOutcome
{
    /// <summary>The stage released (a transaction stage: committed, or rolled back when the work did not succeed).</summary>
    public const string Released = "released";

    /// <summary>The release threw: a commit that failed, or a lock left to its lease (logged and counted, see docs/failures.md).</summary>
    public const string Failed = "failed";
}
