using System.Net.Sockets;
using DualLock.MySql;
using DualLock.PostgreSql;
using MySqlConnector;
using Npgsql;
using StackExchange.Redis;

namespace DualLock.AspNetCore.Tests.ProblemDetails;

/// <summary>One test per row of docs/failures.md's table: the status, code and Retry-After the page states.</summary>
public sealed class LockHttpErrorsTests
{
    public enum Row
    {
        Timeout,
        LeaseLost,
        Unavailable,
        OutcomeUnknown,
        Conflict,
        RowNotFound,
        MySqlDeadlock,
        MySqlLockWaitTimeout,
        MySqlConnectionLost,
        MySqlServerShutdown,
        Redis,
        PostgresRowNotFound,
        PostgresLockNotAvailable,
        PostgresDeadlock,
        PostgresSerializationFailure,
        PostgresAdminShutdown,
        PostgresConnectionLost,
    }

    [Theory]
    [InlineData(Row.Timeout, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.LeaseLost, 503, "LOCK_LEASE_LOST", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.Unavailable, 503, "LOCK_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    [InlineData(Row.OutcomeUnknown, 503, "G_OUTCOME_UNKNOWN", 2, LockWriteOutcome.Unknown)]
    [InlineData(Row.Conflict, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.RowNotFound, 404, "LOCK_ROW_NOT_FOUND", null, LockWriteOutcome.NotApplied)]
    [InlineData(Row.MySqlDeadlock, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.MySqlLockWaitTimeout, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.MySqlConnectionLost, 503, "G_DATABASE_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    [InlineData(Row.MySqlServerShutdown, 503, "G_DATABASE_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    [InlineData(Row.Redis, 503, "LOCK_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresRowNotFound, 404, "LOCK_ROW_NOT_FOUND", null, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresLockNotAvailable, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresDeadlock, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresSerializationFailure, 503, "LOCK_TIMEOUT", 1, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresAdminShutdown, 503, "G_DATABASE_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    [InlineData(Row.PostgresConnectionLost, 503, "G_DATABASE_UNAVAILABLE", 2, LockWriteOutcome.NotApplied)]
    public void Find_EachRowOfTheFailuresTable_AnswersItsStatusCodeAndRetryAfter(Row row, int status, string code, int? retryAfter, LockWriteOutcome outcome)
    {
        var error = LockHttpErrors.Find(Exception(row));

        Assert.NotNull(error);
        Assert.Equal((status, code, retryAfter, outcome), (error.Status, error.Code, error.RetryAfterSeconds, error.Outcome));
        Assert.False(string.IsNullOrWhiteSpace(error.Title));
    }

    [Fact]
    public void Find_OutcomeUnknown_SaysTheWriteMayHaveHappened()
    {
        var error = LockHttpErrors.Find(Exception(Row.OutcomeUnknown))!;

        Assert.Equal("unknown", error.OutcomeText);
        Assert.Contains("may or may not have been applied", error.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_NotALockFailure_IsLeftToTheApplication()
    {
        Assert.Null(LockHttpErrors.Find(new InvalidOperationException("a bug")));
        Assert.Null(LockHttpErrors.Find(ExceptionFactory.MySql(MySqlErrorCode.DuplicateKeyEntry))); // an answer about the statement
        Assert.Null(LockHttpErrors.Find(new OptimisticConflictException())); // the work's own signal, not a lock failure
        Assert.Null(LockHttpErrors.Find(Postgres("23505"))); // unique_violation: an answer about the statement
        Assert.Null(LockHttpErrors.Find(Postgres("22P02"))); // invalid_text_representation
    }

    private static PostgresException Postgres(string sqlState) => new("injected", "ERROR", "ERROR", sqlState);

    private static Exception Exception(Row row) => row switch
    {
        Row.Timeout => new LockTimeoutException("user-point", "redis", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)),
        Row.LeaseLost => new LockLeaseLostException("user-point", "redis", TimeSpan.FromSeconds(1), "renewal failed"),
        Row.Unavailable => new LockUnavailableException("user-point", "redis", TimeSpan.Zero),
        Row.OutcomeUnknown => new LockCommitOutcomeUnknownException("user-point", "mysql-transaction", TimeSpan.FromSeconds(1), new IOException("reset")),
        Row.Conflict => new LockConflictException("user-point", "optimistic", TimeSpan.FromSeconds(1), 5),
        Row.RowNotFound => new MySqlRowNotFoundException("user-point", "mysql-row-lock", TimeSpan.Zero, "user_points.user_id"),
        Row.MySqlDeadlock => ExceptionFactory.MySql(MySqlErrorCode.LockDeadlock),
        Row.MySqlLockWaitTimeout => ExceptionFactory.MySql(MySqlErrorCode.LockWaitTimeout),
        Row.MySqlConnectionLost => ExceptionFactory.MySql(MySqlErrorCode.UnableToConnectToHost, new SocketException()),
        Row.MySqlServerShutdown => ExceptionFactory.MySql(MySqlErrorCode.ServerShutdown),
        Row.Redis => new RedisConnectionException(ConnectionFailureType.SocketFailure, "refused"),
        Row.PostgresRowNotFound => new PostgresRowNotFoundException("user-point", "postgres-row-lock", TimeSpan.Zero, "\"user_points\".\"user_id\""),
        Row.PostgresLockNotAvailable => Postgres("55P03"),
        Row.PostgresDeadlock => Postgres("40P01"),
        Row.PostgresSerializationFailure => Postgres("40001"),
        Row.PostgresAdminShutdown => Postgres("57P01"),
        Row.PostgresConnectionLost => new NpgsqlException("Exception while reading from stream", new SocketException()),
        _ => throw new ArgumentOutOfRangeException(nameof(row)),
    };
}
