using Microsoft.Extensions.Logging;

namespace DualLock.MySql;

/// <summary>Log messages of the MySQL package: event ids 3000-3099. Keys appear only at Debug.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Warning, "The '{Stage}' stage refused the transaction on resource '{Resource}' when it began: fencing token {Token} is older than the recorded {StoredToken}; rolled back")]
    public static partial void FenceRejected(ILogger logger, string stage, string resource, long token, long storedToken);

    [LoggerMessage(3001, LogLevel.Debug, "The '{Stage}' stage created fence table {Table} if it did not exist")]
    public static partial void FenceTableEnsured(ILogger logger, string stage, string table);

    [LoggerMessage(3002, LogLevel.Warning, "The '{Stage}' lock on resource '{Resource}' failed on the server ({ErrorCode}); the transaction will be rolled back")]
    public static partial void LockFailed(ILogger logger, string stage, string resource, int errorCode);

    [LoggerMessage(3003, LogLevel.Warning, "The server did not answer the open or BEGIN for the '{Stage}' stage on resource '{Resource}' within the wait ({ElapsedMs:0} ms): reported as not acquired; the connection is closed once the server answers or the socket fails ({Unanswered} such connections)")]
    public static partial void StepUnanswered(ILogger logger, string stage, string resource, double elapsedMs, int unanswered);

    [LoggerMessage(3005, LogLevel.Error, "Releasing the '{Stage}' named lock on resource '{Resource}' failed; the server releases it when the session ends")]
    public static partial void NamedLockReleaseFailed(ILogger logger, string stage, string resource, Exception exception);

    [LoggerMessage(3006, LogLevel.Warning, "The '{Stage}' stage rolled back instead of committing on resource '{Resource}': the lock of stage '{LostStage}' was lost before the commit")]
    public static partial void CommitRefusedLeaseLost(ILogger logger, string stage, string resource, string lostStage);

    [LoggerMessage(3007, LogLevel.Warning, "The '{Stage}' named lock on resource '{Resource}' was lost while held: {How}")]
    public static partial void NamedLockLost(ILogger logger, string stage, string resource, string how);

    [LoggerMessage(3008, LogLevel.Debug, "The '{Stage}' stage ran out of its wait while opening a connection or beginning on resource '{Resource}' (a pool at its maximum, or a slow server)")]
    public static partial void OpenTimedOut(ILogger logger, string stage, string resource);

    [LoggerMessage(3009, LogLevel.Information, "The '{Stage}' stage found innodb_rollback_on_timeout ON: a lock-wait error rolls back the whole transaction, so NoWaitRetry fails at the first miss instead of retrying")]
    public static partial void RollbackOnTimeoutOn(ILogger logger, string stage);

    [LoggerMessage(3010, LogLevel.Warning, "The server did not answer GET_LOCK for the '{Stage}' named lock on resource '{Resource}' within the wait ({ElapsedMs:0} ms): reported as not acquired")]
    public static partial void GetLockUnanswered(ILogger logger, string stage, string resource, double elapsedMs);
}
