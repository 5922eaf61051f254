using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace DualLock.Comparison;

/// <summary>What became of one write, as far as the client can know.</summary>
internal enum WriteOutcome
{
    /// <summary>200 with success=true: the server committed it.</summary>
    Acknowledged,

    /// <summary>A documented error envelope (4xx, 503): the server guarantees nothing changed.</summary>
    Rejected,

    /// <summary>No answer, or a 500: it may or may not have been committed.</summary>
    Ambiguous,
}

/// <summary>One write's outcome; <paramref name="Status"/> is the HTTP status, 0 when no answer came.</summary>
internal readonly record struct WriteResult(WriteOutcome Outcome, long? Balance, string Code, long LatencyTicks, int Status = 0)
{
    /// <summary>Gets the server's own time for the request (its <c>Server-Timing: app;dur=</c> header), when it sent one.</summary>
    public double? ServerMs { get; init; }
}

/// <summary>Speaks the seed's HTTP contract; spreads requests round-robin over the instances.</summary>
internal sealed class PointApiClient(HttpClient http, IReadOnlyList<Uri> instances)
{
    private int _next;

    public async Task<string> CreateUserAsync(CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(Url("/api/v1/users"), content: null, cancellationToken);
        var data = await DataAsync(response, cancellationToken);
        return data.GetProperty("id").GetString() ?? throw new InvalidOperationException("The API returned a user without an id.");
    }

    public Task<WriteResult> ChargeAsync(string userId, long amount, CancellationToken cancellationToken)
        => WriteAsync(userId, "charge", amount, cancellationToken);

    /// <summary>Sends a charge or a use (<paramref name="operation"/>) of a positive amount.</summary>
    public async Task<WriteResult> WriteAsync(string userId, string operation, long amount, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.PostAsJsonAsync(Url($"/api/v1/user-points/{userId}/{operation}"), new { amount }, cancellationToken);
            var latency = Stopwatch.GetTimestamp() - started;
            var serverMs = ServerMs(response);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonElement root;
            try
            {
                root = JsonDocument.Parse(body).RootElement;
            }
            catch (JsonException)
            {
                // The seed's k6 check threw here and skipped its error counters; we count it.
                return new WriteResult(WriteOutcome.Ambiguous, null, $"NON_JSON_{(int)response.StatusCode}", latency, (int)response.StatusCode) { ServerMs = serverMs };
            }

            if (root.TryGetProperty("success", out var success) && success.ValueKind == JsonValueKind.True)
            {
                return new WriteResult(WriteOutcome.Acknowledged, root.GetProperty("data").GetProperty("amount").GetInt64(), "OK", latency, 200) { ServerMs = serverMs };
            }

            var code = root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c)
                ? c.GetString() ?? "UNKNOWN"
                : $"HTTP_{(int)response.StatusCode}";
            // A 503 says nothing was changed, except G_OUTCOME_UNKNOWN: the connection broke while committing.
            var outcome = ((int)response.StatusCode >= 500 && (int)response.StatusCode != 503) || code == "G_OUTCOME_UNKNOWN" ? WriteOutcome.Ambiguous : WriteOutcome.Rejected;
            return new WriteResult(outcome, null, code, latency, (int)response.StatusCode) { ServerMs = serverMs };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var code = ex is TaskCanceledException ? "CLIENT_TIMEOUT" : "CONNECTION_ERROR";
            return new WriteResult(WriteOutcome.Ambiguous, null, code, Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>Reads <c>Server-Timing: app;dur=1.25</c> (sent when the API runs with <c>Diagnostics:ServerTiming=true</c>).</summary>
    private static double? ServerMs(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Server-Timing", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            var at = value.IndexOf("dur=", StringComparison.Ordinal);
            if (at >= 0 && double.TryParse(value.AsSpan(at + 4), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ms))
            {
                return ms;
            }
        }

        return null;
    }

    public async Task<long> GetBalanceAsync(string userId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(Url($"/api/v1/user-points/{userId}"), cancellationToken);
        return (await DataAsync(response, cancellationToken)).GetProperty("amount").GetInt64();
    }

    public async Task<(long Balance, long LedgerSum, long Entries, bool Consistent)> AuditAsync(string userId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(Url($"/api/v1/user-points/{userId}/audit"), cancellationToken);
        var data = await DataAsync(response, cancellationToken);
        return (data.GetProperty("balance").GetInt64(), data.GetProperty("ledgerSum").GetInt64(),
            data.GetProperty("entryCount").GetInt64(), data.GetProperty("consistent").GetBoolean());
    }

    /// <summary>The instances' runtime counters (GC, JIT), summed; see <see cref="RuntimeCounters"/>.</summary>
    public Task<RuntimeCounters> RuntimeCountersAsync(CancellationToken cancellationToken)
        => RuntimeCounters.OfInstancesAsync(http, instances, cancellationToken);

    private Uri Url(string path) => new(instances[(int)((uint)Interlocked.Increment(ref _next) % (uint)instances.Count)], path);

    private static async Task<JsonElement> DataAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
    }
}
