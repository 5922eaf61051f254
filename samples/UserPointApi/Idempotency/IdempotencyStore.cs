using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;

namespace UserPointApi.Idempotency;

/// <summary>The right to execute a request once, taken by inserting its key first.</summary>
public sealed record IdempotencyClaim(string Key, string Owner);

/// <summary>A response stored for a key, replayed to every repeat.</summary>
public sealed record StoredResponse(int StatusCode, string Body);

/// <summary>
/// Idempotency keys in the database, shared by every instance. The first request inserts the key
/// (the primary key decides between concurrent duplicates on any instance), executes, and stores
/// its response: a success in the write's own transaction, a 4xx domain error afterwards. A repeat
/// with the same request replays that response; with a different request it is a 409
/// IDEMPOTENCY_CONFLICT; while the first is still running the repeat waits (bounded by
/// <see cref="IdempotencyOptions.WaitMs"/>) and then gets 409 IDEMPOTENCY_IN_PROGRESS. A transient
/// failure (503) or a bug (500) releases the key, so the client's retry executes afresh.
/// </summary>
public sealed class IdempotencyStore(Database database, IOptions<IdempotencyOptions> options, TimeProvider timeProvider)
{
    private const string Pending = "pending";
    private const string Completed = "completed";
    private readonly IdempotencyOptions _options = options.Value;

    /// <summary>Validates a header value: 1 to 128 visible ASCII characters.</summary>
    public static string? ParseKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Idempotency-Key", out var values))
        {
            return null;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(key) || key.Length > 128 || key.Any(c => c is < '!' or > '~'))
        {
            throw ApiException.BadRequest("Idempotency-Key must be one value of 1 to 128 visible ASCII characters.");
        }

        return key;
    }

    /// <summary>The request's fingerprint: operation, user and the canonical body (whitespace and formatting do not matter).</summary>
    public static string Hash(string operation, string userId, string canonicalBody)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{operation}\n{userId}\n{canonicalBody}")));

    /// <summary>Claims the key, or returns the response to replay; throws a 409 for a conflict or a request still in progress.</summary>
    public async Task<(IdempotencyClaim? Claim, StoredResponse? Replay)> BeginAsync(string key, string userId, string operation, string hash, CancellationToken cancellationToken)
    {
        var owner = Guid.NewGuid().ToString("D");
        var started = timeProvider.GetTimestamp();
        await using var connection = await database.OpenAsync(cancellationToken);
        while (true)
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"""
                    INSERT INTO idempotency_keys (idem_key, owner, user_id, operation, request_hash, status, created_at)
                    VALUES (@key, @owner, @userId, @operation, @hash, 'pending', {database.Sql.Now})
                    """,
                    new { key, owner, userId, operation, hash }, cancellationToken: cancellationToken));
                return (new IdempotencyClaim(key, owner), null);
            }
            catch (DbException ex) when (Database.IsDuplicateKey(ex))
            {
            }

            var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(
                $"""
                SELECT request_hash, status, status_code, response,
                       {database.Sql.AgeSecondsOfCreatedAt} AS age_seconds
                FROM idempotency_keys WHERE idem_key = @key
                """,
                new { key }, cancellationToken: cancellationToken));
            if (row is null)
            {
                continue; // released by a failed first attempt: try to claim it again
            }

            if (!string.Equals(row.RequestHash, hash, StringComparison.Ordinal))
            {
                throw ApiException.Conflict(ErrorCodes.IdempotencyConflict, "This Idempotency-Key was already used with a different request.");
            }

            if (row.Status == Completed && row.StatusCode is { } status && row.Response is { } body)
            {
                return (null, new StoredResponse(status, body));
            }

            if (row.AgeSeconds >= _options.AbandonedAfterSeconds)
            {
                var taken = await connection.ExecuteAsync(new CommandDefinition(
                    $"""
                    UPDATE idempotency_keys SET owner = @owner, created_at = {database.Sql.Now}
                    WHERE idem_key = @key AND status = 'pending' AND {database.Sql.AgeSecondsOfCreatedAt} >= @seconds
                    """,
                    new { owner, key, seconds = _options.AbandonedAfterSeconds }, cancellationToken: cancellationToken));
                if (taken == 1)
                {
                    return (new IdempotencyClaim(key, owner), null);
                }
            }

            if (timeProvider.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(_options.WaitMs))
            {
                throw new ApiException(StatusCodes.Status409Conflict, ErrorCodes.IdempotencyInProgress, "A request with this Idempotency-Key is still being processed; retry later.", retryAfterSeconds: 1);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), timeProvider, cancellationToken);
        }
    }

    /// <summary>Stores the response in the caller's transaction; fails (rolling the write back) if the claim was taken over.</summary>
    public async Task CompleteAsync(DbConnection connection, DbTransaction? transaction, IdempotencyClaim claim, int statusCode, string body, CancellationToken cancellationToken)
    {
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE idempotency_keys SET status = 'completed', status_code = @statusCode, response = @body, completed_at = {database.Sql.Now}
            WHERE idem_key = @key AND owner = @owner AND status = 'pending'
            """,
            new { statusCode, body, key = claim.Key, owner = claim.Owner }, transaction, cancellationToken: cancellationToken));
        if (updated != 1)
        {
            throw new ApiException(StatusCodes.Status409Conflict, ErrorCodes.IdempotencyInProgress, "This request's Idempotency-Key was taken over by a later attempt; nothing was changed.", retryAfterSeconds: 1);
        }
    }

    /// <summary>Stores a final error response (4xx) outside any transaction.</summary>
    public async Task CompleteErrorAsync(IdempotencyClaim claim, int statusCode, string body)
    {
        try
        {
            await using var connection = await database.OpenAsync(CancellationToken.None);
            await CompleteAsync(connection, null, claim, statusCode, body, CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or ApiException or TimeoutException)
        {
            // Not stored: the claim stays pending and is taken over after AbandonedAfterSeconds; the write itself changed nothing.
        }
    }

    /// <summary>Releases the key after a transient failure so a retry can execute.</summary>
    public async Task ReleaseAsync(IdempotencyClaim claim)
    {
        try
        {
            await using var connection = await database.OpenAsync(CancellationToken.None);
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM idempotency_keys WHERE idem_key = @key AND owner = @owner AND status = 'pending'",
                new { key = claim.Key, owner = claim.Owner }));
        }
        catch (Exception ex) when (ex is DbException or TimeoutException)
        {
            // The database is down: the claim is taken over after AbandonedAfterSeconds.
        }
    }

    private sealed class KeyRow
    {
        public string RequestHash { get; set; } = "";

        public string Status { get; set; } = Pending;

        public int? StatusCode { get; set; }

        public string? Response { get; set; }

        public long AgeSeconds { get; set; }
    }
}
