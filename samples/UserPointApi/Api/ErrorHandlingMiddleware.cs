using DualLock.AspNetCore;
using MySqlConnector;
using UserPointApi.Data;
using StackExchange.Redis;

namespace UserPointApi.Api;

/// <summary>
/// Maps every exception to an envelope with an honest status: expected failures keep their code,
/// lock failures and an unreachable database are 503 with Retry-After, anything else is a 500
/// G_SERVER_ERROR (a bug: the tests prove no client input gets there).
/// </summary>
public sealed partial class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> NextLogAt = new(StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            if (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                return; // the client went away; nobody reads the answer
            }

            var (status, code, message, retryAfter) = Map(ex);
            if (status >= 500 && (status != 503 || FirstThisSecond(code)))
            {
                LogFailure(logger, status, code, ex);
            }

            context.Response.Clear();
            if (retryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await ApiJson.WriteAsync(context.Response, status, ApiJson.Failure(code, message));
        }
    }

    internal static (int Status, string Code, string Message, int? RetryAfter) Map(Exception ex) => ex switch
    {
        ApiException api => (api.StatusCode, api.Code, api.Message, api.RetryAfterSeconds),
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge
            => (413, ErrorCodes.PayloadTooLarge, "The body is too large.", null),
        BadHttpRequestException bad => (bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400, ErrorCodes.InvalidArgument, "The request is malformed.", null),

        // The sample's own answers before DualLock's table: the row lock's missing row is the seed's "no such user",
        // a duplicate ledger claim is a refund made twice.
        DualLock.MySql.MySqlRowNotFoundException or DualLock.PostgreSql.PostgresRowNotFoundException => (404, ErrorCodes.UserPointNotFound, "No such user.", null),
        _ when Database.IsDuplicateKey(ex)
            => (409, ErrorCodes.AlreadyRefunded, "The transaction was already refunded.", null),

        // Every lock and lock-service failure: status, code and Retry-After from DualLock.AspNetCore's one table
        // (docs/failures.md), written in the sample's envelope instead of problem details.
        _ when LockHttpErrors.Find(ex) is { } error
            => (error.Status, error.Code, error.Code == ErrorCodes.OutcomeUnknown ? OutcomeUnknownMessage : error.Title, error.RetryAfterSeconds),
        // DualLock.AspNetCore's table knows MySqlConnector's unavailability, not Npgsql's: the same answer for PostgreSQL. A
        // connection lost while committing never gets here (PointService and the transaction stage say outcome unknown).
        Npgsql.NpgsqlException npgsql when IsConnectionLoss(npgsql)
            => (503, ErrorCodes.DatabaseUnavailable, "The database is unavailable; nothing was changed.", 2),
        TimeoutException => (503, ErrorCodes.DatabaseUnavailable, "A backing service timed out; nothing was changed.", 2),
        _ => (500, ErrorCodes.ServerError, "Unexpected server error.", null),
    };

    private const string OutcomeUnknownMessage
        = "The database connection was lost while the write was committing: it may or may not have been applied. Retry with the same Idempotency-Key to learn which.";

    /// <summary>Whether the failure is the database connection breaking (as opposed to an answer from the server).</summary>
    internal static bool IsConnectionLoss(Exception ex) => ex switch
    {
        MySqlException mySql => mySql.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.CommandTimeoutExpired
            || mySql.InnerException is System.Net.Sockets.SocketException or IOException,
        // Npgsql wraps a broken socket (and its own read timeout) in an NpgsqlException; a server that went away mid-statement says 57P01/57P02/57P03.
        Npgsql.PostgresException postgres => postgres.SqlState is Npgsql.PostgresErrorCodes.AdminShutdown or Npgsql.PostgresErrorCodes.CrashShutdown or Npgsql.PostgresErrorCodes.CannotConnectNow,
        Npgsql.NpgsqlException npgsql => npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException || npgsql.IsTransient,
        IOException or System.Net.Sockets.SocketException => true,
        _ => false,
    };

    /// <summary>
    /// 503s are expected under an outage and all alike: one per code and second is logged (with its
    /// exception), the rest are not, so logging does not slow the requests that still succeed.
    /// </summary>
    private static bool FirstThisSecond(string code)
    {
        var now = Environment.TickCount64;
        var next = NextLogAt.GetOrAdd(code, 0);
        return now >= next && NextLogAt.TryUpdate(code, now + 1000, next);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Request failed with {Status} {Code} (a 503 code is logged at most once a second)")]
    private static partial void LogFailure(ILogger logger, int status, string code, Exception exception);
}
