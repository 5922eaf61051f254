namespace DualLock.Telemetry;

/// <summary>The values of the <see cref="DualLockTelemetry.OutcomeTag"/> tag on a <see cref="DualLockTelemetry.HoldSpan"/>.</summary>
public static class HoldOutcome
{
    /// <summary>The work returned under the lock.</summary>
    public const string Returned = "returned";

    /// <summary>The work threw (or was cancelled by the caller).</summary>
    public const string Failed = "failed";

    /// <summary>A stage's lock was lost while the work ran: the call fails with <see cref="LockLeaseLostException"/>.</summary>
    public const string LeaseLost = "lease_lost";
}
