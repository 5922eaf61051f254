using Microsoft.Extensions.Logging;

namespace DualLock.PostgreSql;

/// <summary>Log messages of the PostgreSQL package: event ids 3200-3299. Keys appear only at Debug.</summary>
internal static partial class Log
{
    [LoggerMessage(3200, LogLevel.Warning, "The '{Stage}' stage refused the transaction on resource '{Resource}' when it began: fencing token {Token} is older than the recorded {StoredToken}; rolled back")]
    public static partial void FenceRejected(ILogger logger, string stage, string resource, long token, long storedToken);

    [LoggerMessage(3201, LogLevel.Debug, "The '{Stage}' stage created fence table {Table} if it did not exist")]
    public static partial void FenceTableEnsured(ILogger logger, string stage, string table);

    [LoggerMessage(3202, LogLevel.Warning, "The '{Stage}' lock on resource '{Resource}' failed on the server ({SqlState}); the transaction will be rolled back")]
    public static partial void LockFailed(ILogger logger, string stage, string resource, string sqlState);

    [LoggerMessage(3203, LogLevel.Warning, "The '{Stage}' stage rolled back instead of committing on resource '{Resource}': the lock of stage '{LostStage}' was lost before the commit")]
    public static partial void CommitRefusedLeaseLost(ILogger logger, string stage, string resource, string lostStage);

    [LoggerMessage(3204, LogLevel.Debug, "The '{Stage}' stage ran out of its wait while opening a connection on resource '{Resource}' (a pool at its maximum, or a slow server)")]
    public static partial void OpenTimedOut(ILogger logger, string stage, string resource);
}
