using System.Globalization;
using Microsoft.Extensions.Options;
using UserPointApi.Data;
using UserPointApi.Idempotency;
using UserPointApi.Points;

namespace UserPointApi.Api;

public static class UserPointEndpoints
{
    public static void MapUserPointEndpoints(this IEndpointRouteBuilder app)
    {
        var points = app.MapGroup("/api/v1/user-points/{userId}").WithTags("User points");

        points.MapGet("", async (string userId, PointQueries queries, CancellationToken ct) =>
            {
                var point = await queries.GetPointAsync(Ids.ParseOrThrow(userId, "userId"), ct) ?? throw NotFound();
                return UserEndpoints.Ok(point);
            })
            .WithSummary("Gets the user's balance (no lock).")
            .Produces<ApiEnvelope<UserPointDto>>();

        points.MapPost("/charge", (string userId, HttpContext http, IOptions<PointOptions> limits, CancellationToken ct) =>
                WriteAsync(http, userId, PointCommand.Charge, async () =>
                {
                    var amount = await RequestBody.ReadAmountAsync(http.Request, ct);
                    if (amount < 1 || amount > limits.Value.MaxCharge)
                    {
                        throw ApiException.BadRequest($"A charge must be between 1 and {limits.Value.MaxCharge}.", ErrorCodes.InvalidCharge);
                    }

                    return (amount, (string?)null);
                }))
            .WithSummary("Charges points; data.amount is the new balance, data.transactionId the ledger entry. Honours Idempotency-Key.")
            .Accepts<AmountRequest>("application/json")
            .Produces<ApiEnvelope<PointWriteDto>>();

        points.MapPost("/use", (string userId, HttpContext http, IOptions<PointOptions> limits, CancellationToken ct) =>
                WriteAsync(http, userId, PointCommand.Use, async () =>
                {
                    var amount = await RequestBody.ReadAmountAsync(http.Request, ct);
                    if (amount < 1 || amount > limits.Value.MaxBalance)
                    {
                        throw ApiException.BadRequest($"A use must be between 1 and {limits.Value.MaxBalance}.");
                    }

                    return (amount, (string?)null);
                }))
            .WithSummary("Uses points; the balance never goes below zero (409). Honours Idempotency-Key.")
            .Accepts<AmountRequest>("application/json")
            .Produces<ApiEnvelope<PointWriteDto>>();

        points.MapPost("/refund", (string userId, HttpContext http, CancellationToken ct) =>
                WriteAsync(http, userId, PointCommand.Refund, async () => (0L, (string?)await RequestBody.ReadTransactionIdAsync(http.Request, ct))))
            .WithSummary("Refunds one earlier use (its transactionId), at most once. Honours Idempotency-Key.")
            .Accepts<RefundRequest>("application/json")
            .Produces<ApiEnvelope<PointWriteDto>>();

        // Its own route (not the group's) so the path names the sender; the receiver is in the body.
        app.MapPost("/api/v1/user-points/{fromUserId}/transfer", (string fromUserId, HttpContext http, IOptions<PointOptions> limits, CancellationToken ct) =>
                TransferAsync(http, fromUserId, limits.Value, ct))
            .WithTags("User points")
            .WithSummary("Moves points from one user to another in one transaction under the 'transfer' strategy (both keys locked in canonical order); data.from and data.to are both sides after it. Honours Idempotency-Key.")
            .Accepts<TransferRequest>("application/json")
            .Produces<ApiEnvelope<TransferDto>>();

        points.MapGet("/histories", async (string userId, string? page, string? size, PointQueries queries, CancellationToken ct) =>
            {
                var id = Ids.ParseOrThrow(userId, "userId");
                var pageNumber = ParsePaging(page, "page", 1, 1, 1_000_000);
                var pageSize = ParsePaging(size, "size", 20, 1, 100);
                return UserEndpoints.Ok(await queries.GetHistoryAsync(id, pageNumber, pageSize, ct) ?? throw NotFound());
            })
            .WithSummary("The ledger, newest first: ?page=1 (1-based) & size=20 (1..100).")
            .Produces<ApiEnvelope<HistoryPageDto>>();

        points.MapGet("/audit", async (string userId, PointQueries queries, CancellationToken ct) =>
                UserEndpoints.Ok(await queries.GetAuditAsync(Ids.ParseOrThrow(userId, "userId"), ct) ?? throw NotFound()))
            .WithSummary("The stored balance against the sum of the ledger, read in one snapshot.")
            .Produces<ApiEnvelope<AuditDto>>();
    }

    /// <summary>Validates a charge, use or refund, then runs it through <see cref="IdempotentAsync"/>.</summary>
    private static async Task WriteAsync(HttpContext http, string rawUserId, string operation, Func<Task<(long Amount, string? TransactionId)>> readBody)
    {
        var userId = Ids.ParseOrThrow(rawUserId, "userId");
        var (amount, transactionId) = await readBody();
        var command = new PointCommand(operation, userId, amount, transactionId);
        var service = http.RequestServices.GetRequiredService<PointService>();
        await IdempotentAsync(
            http,
            userId,
            operation,
            transactionId ?? amount.ToString(CultureInfo.InvariantCulture),
            (claim, ct) => service.ExecuteAsync(command with { Claim = claim }, ct));
    }

    /// <summary>Validates a transfer (a UUID receiver other than the sender, 1..MaxCharge), then runs it through <see cref="IdempotentAsync"/>.</summary>
    private static async Task TransferAsync(HttpContext http, string rawFromUserId, PointOptions limits, CancellationToken cancellationToken)
    {
        var fromUserId = Ids.ParseOrThrow(rawFromUserId, "fromUserId");
        var (toUserId, amount) = await RequestBody.ReadTransferAsync(http.Request, cancellationToken);
        if (string.Equals(fromUserId, toUserId, StringComparison.Ordinal))
        {
            throw ApiException.BadRequest("'toUserId' must be another user than the sender.", ErrorCodes.SelfTransfer);
        }

        if (amount < 1 || amount > limits.MaxCharge)
        {
            throw ApiException.BadRequest($"A transfer must be between 1 and {limits.MaxCharge}.", ErrorCodes.InvalidTransfer);
        }

        var command = new TransferCommand(fromUserId, toUserId, amount);
        var transfers = http.RequestServices.GetRequiredService<PointTransfers>();
        await IdempotentAsync(
            http,
            fromUserId,
            TransferCommand.Operation,
            FormattableString.Invariant($"{toUserId}\n{amount}"),
            (claim, ct) => transfers.ExecuteAsync(command with { Claim = claim }, ct));
    }

    /// <summary>
    /// Claims the idempotency key (if any), executes and stores or replays the response. The fingerprint is the
    /// operation, <paramref name="userId"/> and <paramref name="canonicalBody"/>.
    /// </summary>
    private static async Task IdempotentAsync<T>(HttpContext http, string userId, string operation, string canonicalBody, Func<IdempotencyClaim?, CancellationToken, Task<T>> execute)
    {
        var key = IdempotencyStore.ParseKey(http.Request);
        if (key is null)
        {
            await ApiJson.WriteAsync(http.Response, StatusCodes.Status200OK, ApiJson.Success(await execute(null, http.RequestAborted)));
            return;
        }

        var store = http.RequestServices.GetRequiredService<IdempotencyStore>();
        var hash = IdempotencyStore.Hash(operation, userId, canonicalBody);
        var (claim, replay) = await store.BeginAsync(key, userId, operation, hash, http.RequestAborted);
        if (replay is not null)
        {
            http.Response.Headers["Idempotency-Replayed"] = "true";
            await ApiJson.WriteAsync(http.Response, replay.StatusCode, replay.Body);
            return;
        }

        T result;
        try
        {
            // Not cancelled by the client going away: the claim must end completed or released.
            result = await execute(claim, CancellationToken.None);
        }
        catch (ApiException ex) when (ex.StatusCode is >= 400 and < 500 && ex.Code != ErrorCodes.IdempotencyInProgress)
        {
            // A final answer (404, 409): the repeat gets the same one.
            await store.CompleteErrorAsync(claim!, ex.StatusCode, ApiJson.Failure(ex.Code, ex.Message));
            throw;
        }
        catch (Exception ex) when (ex is not ApiException { Code: ErrorCodes.IdempotencyInProgress })
        {
            // Transient (503) or a bug (500): nothing was committed; free the key so a retry executes.
            await store.ReleaseAsync(claim!);
            throw;
        }

        await ApiJson.WriteAsync(http.Response, StatusCodes.Status200OK, ApiJson.Success(result));
    }

    private static int ParsePaging(string? value, string name, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            throw ApiException.BadRequest($"'{name}' must be a whole number between {min} and {max}.");
        }

        return number;
    }

    private static ApiException NotFound() => new(StatusCodes.Status404NotFound, ErrorCodes.UserPointNotFound, "No such user.");
}
