using System.Text.Encodings.Web;
using System.Text.Json;

namespace UserPointApi.Api;

/// <summary>Serialises envelopes the same way everywhere (camelCase), so a stored idempotent response replays byte for byte.</summary>
public static class ApiJson
{
    // Relaxed escaping: messages stay readable ('amount', not \u0027amount\u0027); still valid JSON.
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Success<T>(T data) => JsonSerializer.Serialize(new ApiEnvelope<T>(true, data, null), Options);

    public static string Failure(string code, string message) => JsonSerializer.Serialize(new ApiEnvelope<object>(false, null, new ApiErrorBody(code, message)), Options);

    /// <summary>Writes a serialised envelope with its status.</summary>
    public static async Task WriteAsync(HttpResponse response, int statusCode, string body)
    {
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        await response.WriteAsync(body);
    }
}
