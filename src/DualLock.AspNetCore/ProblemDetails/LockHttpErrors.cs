using System.Data.Common;
using System.Net.Sockets;
using MySqlConnector;
using StackExchange.Redis;

namespace DualLock.AspNetCore;

/// <summary>
/// The one table from lock failures to HTTP answers: status, code and <c>Retry-After</c>, as docs/failures.md lists
/// them. <c>AddDualLockProblemDetails</c> answers with it; an application with its own error format can map with it too.
/// </summary>
public static class LockHttpErrors
{
    private const string NothingChanged = "nothing was changed.";

    // First match wins: the specific rows before the LockException catch-all.
    private static readonly (Func<Exception, bool> Matches, LockHttpError Answer)[] Rows =
    [
        (static e => e is LockTimeoutException,
            new(503, LockErrorCodes.Timeout, "The lock was not acquired in time; " + NothingChanged, 1, LockWriteOutcome.NotApplied)),
        (static e => e is LockLeaseLostException,
            new(503, LockErrorCodes.LeaseLost, "The lock was lost while the write ran; its transaction was rolled back, nothing was committed.", 1, LockWriteOutcome.NotApplied)),
        (static e => e is LockUnavailableException,
            new(503, LockErrorCodes.Unavailable, "The lock service is unavailable; " + NothingChanged, 2, LockWriteOutcome.NotApplied)),
        (static e => e is LockCommitOutcomeUnknownException,
            new(503, LockErrorCodes.OutcomeUnknown, "The connection was lost while the write was committing: it may or may not have been applied. Find out before retrying.", 2, LockWriteOutcome.Unknown)),
        (static e => e is LockRowNotFoundException, // MySQL's and PostgreSQL's

            new(404, LockErrorCodes.RowNotFound, "No row exists for the locked key; " + NothingChanged, null, LockWriteOutcome.NotApplied)),
        (static e => e is LockException, // LockConflictException, and any other lock failure
            new(503, LockErrorCodes.Timeout, "The write kept conflicting or the lock failed; " + NothingChanged, 1, LockWriteOutcome.NotApplied)),
        (static e => e is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout },
            new(503, LockErrorCodes.Timeout, "The database lock was not acquired in time; " + NothingChanged, 1, LockWriteOutcome.NotApplied)),
        (static e => e is MySqlException mySql && IsUnavailable(mySql),
            new(503, LockErrorCodes.DatabaseUnavailable, "The database is unavailable; " + NothingChanged, 2, LockWriteOutcome.NotApplied)),

        // Any other ADO.NET provider (Npgsql for PostgreSQL: no reference needed) by its SQLSTATE and IsTransient:
        // 55P03 lock_not_available, 40P01 deadlock, 40001 serialization failure; a transient failure is the server gone.
        (static e => e is DbException { SqlState: "55P03" or "40P01" or "40001" },
            new(503, LockErrorCodes.Timeout, "The database lock was not acquired in time; " + NothingChanged, 1, LockWriteOutcome.NotApplied)),
        (static e => e is DbException db && IsUnavailable(db),
            new(503, LockErrorCodes.DatabaseUnavailable, "The database is unavailable; " + NothingChanged, 2, LockWriteOutcome.NotApplied)),
        (static e => e is RedisException,
            new(503, LockErrorCodes.Unavailable, "Redis is unavailable; " + NothingChanged, 2, LockWriteOutcome.NotApplied)),
    ];

    /// <summary>Finds the answer to <paramref name="exception"/>.</summary>
    /// <param name="exception">What the request failed with.</param>
    /// <returns>The answer, or <see langword="null"/> when it is not a lock or lock-service failure (another <see cref="MySqlException"/>, a bug).</returns>
    public static LockHttpError? Find(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        foreach (var (matches, answer) in Rows)
        {
            if (matches(exception))
            {
                return answer;
            }
        }

        return null;
    }

    /// <summary>
    /// Another provider's connection broke: transient by its own account, a socket or I/O failure underneath, or SQLSTATE
    /// class 08 (connection exception) or 57P (operator intervention: the server shutting down or the session terminated).
    /// </summary>
    private static bool IsUnavailable(DbException ex)
        => ex.IsTransient
           || ex.InnerException is SocketException or IOException or TimeoutException
           || ex.SqlState is { Length: 5 } state && (state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal));

    /// <summary>The database connection broke or the server is going away, as opposed to an answer about the statement.</summary>
    private static bool IsUnavailable(MySqlException ex)
        => ex.IsTransient
           || ex.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired or MySqlErrorCode.ConnectionCountError
               or MySqlErrorCode.TooManyUserConnections or MySqlErrorCode.ServerShutdown or MySqlErrorCode.QueryInterrupted
           || ex.InnerException is SocketException or IOException;
}
