namespace DualLock.Telemetry;

/// <summary>The values of the <see cref="DualLockTelemetry.OutcomeTag"/> tag.</summary>
public static class AcquireOutcome
{
    /// <summary>The lock was acquired.</summary>
    public const string Acquired = "acquired";

    /// <summary>The wait timeout ran out.</summary>
    public const string Timeout = "timeout";

    /// <summary>The lock service could not be reached.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The caller cancelled the wait.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The stage failed in another way.</summary>
    public const string Error = "error";
}
