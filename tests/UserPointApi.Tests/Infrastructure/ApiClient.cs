using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace UserPointApi.Tests.Infrastructure;

/// <summary>A parsed response: status, the envelope's parts and the raw body.</summary>
public sealed record ApiResponse(HttpStatusCode Status, bool Success, JsonElement Data, string? Code, string Body, HttpResponseHeaders Headers)
{
    public long Amount => Data.GetProperty("amount").GetInt64();

    public string TransactionId => Data.GetProperty("transactionId").GetString()!;
}

/// <summary>Raw HTTP against one API instance: every response must be an envelope.</summary>
public sealed class ApiClient(HttpClient http, Uri baseUrl)
{
    public Uri BaseUrl => baseUrl;

    public async Task<string> CreateUserAsync()
    {
        var response = await SendAsync(HttpMethod.Post, "/api/v1/users");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return response.Data.GetProperty("id").GetString()!;
    }

    public Task<ApiResponse> ChargeAsync(string userId, long amount, string? idempotencyKey = null)
        => SendAsync(HttpMethod.Post, $"/api/v1/user-points/{userId}/charge", $"{{\"amount\":{amount}}}", idempotencyKey: idempotencyKey);

    public Task<ApiResponse> UseAsync(string userId, long amount, string? idempotencyKey = null)
        => SendAsync(HttpMethod.Post, $"/api/v1/user-points/{userId}/use", $"{{\"amount\":{amount}}}", idempotencyKey: idempotencyKey);

    public Task<ApiResponse> RefundAsync(string userId, string transactionId, string? idempotencyKey = null)
        => SendAsync(HttpMethod.Post, $"/api/v1/user-points/{userId}/refund", $"{{\"transactionId\":\"{transactionId}\"}}", idempotencyKey: idempotencyKey);

    public Task<ApiResponse> TransferAsync(string fromUserId, string toUserId, long amount, string? idempotencyKey = null)
        => SendAsync(HttpMethod.Post, $"/api/v1/user-points/{fromUserId}/transfer", $"{{\"toUserId\":\"{toUserId}\",\"amount\":{amount}}}", idempotencyKey: idempotencyKey);

    public async Task<long> BalanceAsync(string userId)
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/user-points/{userId}");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return response.Amount;
    }

    public async Task<(long Balance, long LedgerSum, long Entries, bool Consistent)> AuditAsync(string userId)
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/user-points/{userId}/audit");
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var d = response.Data;
        return (d.GetProperty("balance").GetInt64(), d.GetProperty("ledgerSum").GetInt64(), d.GetProperty("entryCount").GetInt64(), d.GetProperty("consistent").GetBoolean());
    }

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json", string? idempotencyKey = null, byte[]? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseUrl, path));
        if (rawBody is not null)
        {
            request.Content = new ByteArrayContent(rawBody);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);

            // As a well-behaved client does with a large body: the server can refuse it (413) before it is sent.
            request.Headers.ExpectContinue = rawBody.Length > 64 * 1024;
        }
        else if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType.Length > 0)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{method} {path} answered {(int)response.StatusCode} with a non-JSON body: {text}");
        }

        var success = root.GetProperty("success").GetBoolean();
        var error = root.GetProperty("error");
        var code = error.ValueKind == JsonValueKind.Object ? error.GetProperty("code").GetString() : null;
        return new ApiResponse(response.StatusCode, success, root.GetProperty("data"), code, text, response.Headers);
    }
}
