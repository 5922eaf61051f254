using System.Net.Sockets;
using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>Classifies server and client errors into DualLock's outcomes.</summary>
internal static class PostgresErrors
{
    /// <summary>lock_not_available: <c>lock_timeout</c> ran out, or <c>NOWAIT</c> found the row held.</summary>
    public const string LockNotAvailable = "55P03";

    /// <summary>deadlock_detected: the server chose this transaction as the victim.</summary>
    public const string DeadlockDetected = "40P01";

    /// <summary>serialization_failure: under REPEATABLE READ or SERIALIZABLE a concurrent write won.</summary>
    public const string SerializationFailure = "40001";

    /// <summary>The lock was held by someone else for the whole wait.</summary>
    public static bool IsLockWait(Exception ex) => ex is PostgresException { SqlState: LockNotAvailable };

    /// <summary>A deadlock or a serialization failure: the transaction is aborted, another one won.</summary>
    public static bool IsConflict(Exception ex) => ex is PostgresException { SqlState: DeadlockDetected or SerializationFailure };

    /// <summary>
    /// The server could not be reached, the connection broke, or the server is shutting down or starting
    /// (class 08, 57P01-57P03): the lock service is unavailable, nobody holds the lock.
    /// </summary>
    public static bool IsUnavailable(Exception ex)
        => ex switch
        {
            PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03",
            NpgsqlException { InnerException: IOException or SocketException or TimeoutException } => true,
            NpgsqlException { IsTransient: true } => true,
            IOException or SocketException => true,
            _ => false,
        };

    /// <summary>
    /// Whether a failed COMMIT has a known outcome: the server answered it with an error of its own (a deferred
    /// constraint, a serialization failure: the transaction was rolled back). Anything else (the connection broke,
    /// the answer timed out, the server shut down, which may happen after the commit was made durable) leaves the
    /// outcome unknown.
    /// </summary>
    public static bool CommitRefusedByServer(Exception ex)
        => ex is PostgresException pg && !IsUnavailable(pg) && !pg.SqlState.StartsWith("57", StringComparison.Ordinal);
}
