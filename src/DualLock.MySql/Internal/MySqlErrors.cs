using System.Net.Sockets;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>Classifies server and client errors into DualLock's outcomes.</summary>
internal static class MySqlErrors
{
    /// <summary>MySQL 8's ER_LOCK_NOWAIT; MariaDB reports a NOWAIT miss as 1205 instead.</summary>
    private const int LockNoWait = 3572;

    /// <summary>MySQL 8's ER_USER_LOCK_DEADLOCK, reported by GET_LOCK.</summary>
    private const int UserLockDeadlock = 3058;

    /// <summary>MariaDB's ER_CONNECTION_KILLED (1927), sent to a session ended by KILL CONNECTION.</summary>
    private const int ConnectionKilled = 1927;

    /// <summary>The lock was held by someone else: 1205 (lock-wait timeout, or a NOWAIT miss on MariaDB) or 3572 (NOWAIT miss on MySQL).</summary>
    public static bool IsLockWait(MySqlException ex)
        => ex.ErrorCode == MySqlErrorCode.LockWaitTimeout || (int)ex.ErrorCode == LockNoWait;

    /// <summary>The server chose this transaction as a deadlock victim (1213, the whole transaction was rolled back) or GET_LOCK would deadlock (3058).</summary>
    public static bool IsDeadlock(MySqlException ex)
        => ex.ErrorCode == MySqlErrorCode.LockDeadlock || (int)ex.ErrorCode == UserLockDeadlock;

    /// <summary>The server could not be reached or the connection broke: the lock service is unavailable, nobody holds the lock.</summary>
    public static bool IsUnavailable(Exception ex)
        => ex switch
        {
            MySqlEndOfStreamException => true,
            MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired } => true,
            MySqlException { InnerException: IOException or SocketException } => true,
            IOException or SocketException => true,
            _ => false,
        };

    /// <summary>
    /// Whether a failed COMMIT has a known outcome: the server answered it with an error of its own (the transaction
    /// was rolled back). Anything else (the connection broke, the answer timed out, the session was killed or the
    /// server shut down, which may happen after the commit was made durable) leaves the outcome unknown.
    /// </summary>
    public static bool CommitRefusedByServer(Exception ex)
        => ex is MySqlException { InnerException: null } mySql
           && (int)mySql.ErrorCode is (>= 1000 and < 2000) or >= 3000
           && (int)mySql.ErrorCode != ConnectionKilled
           && mySql.ErrorCode is not (MySqlErrorCode.ServerShutdown or MySqlErrorCode.QueryInterrupted);

    /// <summary>Commits, saying "outcome unknown" when the answer to the COMMIT was lost rather than a refusal.</summary>
    /// <remarks>Takes the start timestamp rather than a callback: every commit passes here, and a lambda would allocate a closure per commit.</remarks>
    public static async ValueTask CommitAsync(MySqlTransaction transaction, string resource, string stage, TimeProvider time, long started)
    {
        try
        {
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (!CommitRefusedByServer(ex))
        {
            throw new LockCommitOutcomeUnknownException(resource, stage, time.GetElapsedTime(started), ex);
        }
    }
}
