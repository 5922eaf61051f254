using Microsoft.Extensions.Logging;

namespace DualLock.Telemetry;

/// <summary>Log messages of the core package: event ids 1000-1099. Keys appear only at Debug.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Acquired '{Stage}' lock on {Keys} in pipeline '{Pipeline}' after {ElapsedMs:0.###} ms")]
    public static partial void Acquired(ILogger logger, string stage, LockKeySet keys, string pipeline, double elapsedMs);

    [LoggerMessage(1001, LogLevel.Warning, "Timed out acquiring the '{Stage}' lock on resource '{Resource}' in pipeline '{Pipeline}' after {ElapsedMs:0} ms")]
    public static partial void AcquireTimedOut(ILogger logger, string stage, string resource, string pipeline, double elapsedMs);

    [LoggerMessage(1002, LogLevel.Error, "The '{Stage}' lock service is unavailable for resource '{Resource}' in pipeline '{Pipeline}' ({Suppressed} more such failures in this pipeline since the last message)")]
    public static partial void Unavailable(ILogger logger, string stage, string resource, string pipeline, long suppressed, Exception exception);

    [LoggerMessage(1003, LogLevel.Warning, "The '{Stage}' lock on resource '{Resource}' in pipeline '{Pipeline}' was lost while the work ran")]
    public static partial void LeaseLost(ILogger logger, string stage, string resource, string pipeline);

    [LoggerMessage(1004, LogLevel.Error, "Releasing the '{Stage}' lock on resource '{Resource}' in pipeline '{Pipeline}' failed after the work had already failed")]
    public static partial void ReleaseFailedAfterWorkFailed(ILogger logger, string stage, string resource, string pipeline, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "Releasing the '{Stage}' lock on resource '{Resource}' in pipeline '{Pipeline}' failed after the work had returned and its transaction (if any) had committed; the call reports success and the lock stays held until its lease ends")]
    public static partial void ReleaseFailedAfterWorkReturned(ILogger logger, string stage, string resource, string pipeline, Exception exception);

    [LoggerMessage(1008, LogLevel.Error, "Giving back the '{Stage}' lock on resource '{Resource}' in pipeline '{Pipeline}' failed (a key set not wholly acquired); it stays held until its lease ends")]
    public static partial void GiveBackFailed(ILogger logger, string stage, string resource, string pipeline, Exception exception);

    [LoggerMessage(1005, LogLevel.Debug, "Released '{Stage}' lock on {Keys} in pipeline '{Pipeline}' after holding it {HeldMs:0.###} ms")]
    public static partial void Released(ILogger logger, string stage, LockKeySet keys, string pipeline, double heldMs);

    [LoggerMessage(1006, LogLevel.Warning, "The '{Stage}' lock service is unavailable for resource '{Resource}' in pipeline '{Pipeline}'; continuing with the inner stages alone ({Suppressed} more such fallbacks since the last message)")]
    public static partial void ContinuedWithoutStage(ILogger logger, string stage, string resource, string pipeline, long suppressed, Exception exception);

    [LoggerMessage(1009, LogLevel.Debug, "Attempt {Attempt} of the work on resource '{Resource}' in pipeline '{Pipeline}' conflicted; running it again after {DelayMs:0.###} ms")]
    public static partial void Conflicted(ILogger logger, int attempt, string resource, string pipeline, double delayMs);

    [LoggerMessage(1010, LogLevel.Warning, "Every one of the {Attempts} attempts of the work on resource '{Resource}' in pipeline '{Pipeline}' conflicted")]
    public static partial void ConflictsExhausted(ILogger logger, int attempts, string resource, string pipeline);
}
