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
}
