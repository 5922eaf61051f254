using System.Buffers;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace UserPointApi.Api;

/// <summary>
/// Reads and validates a JSON request body by hand, so that every malformed or hostile body gets a
/// documented 4xx and never reaches model binding's 500s: the body must be <c>application/json</c>,
/// at most <see cref="MaxBytes"/>, one JSON object with exactly the expected fields (unknown or
/// duplicate fields are rejected), and numbers must be plain 64-bit integers (no fraction, no
/// exponent, no strings).
/// </summary>
public static class RequestBody
{
    /// <summary>The body cap: larger bodies get 413 before they are read.</summary>
    public const int MaxBytes = 16 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 8, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Reads the body as one JSON object whose only property is <paramref name="field"/>.</summary>
    public static async Task<JsonElement> ReadSingleFieldAsync(HttpRequest request, string field, CancellationToken cancellationToken)
        => (await ReadFieldsAsync(request, [field], cancellationToken))[0];

    /// <summary>Reads the body as one JSON object with exactly <paramref name="fields"/>, each once; returns their values in that order.</summary>
    public static async Task<JsonElement[]> ReadFieldsAsync(HttpRequest request, string[] fields, CancellationToken cancellationToken)
    {
        var shape = "{" + string.Join(", ", fields.Select(f => $"\"{f}\": ...")) + "}";
        if (request.ContentLength == 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            throw ApiException.BadRequest($"A JSON body {shape} is required.");
        }

        RequireJsonContentType(request);
        var bytes = await ReadCappedAsync(request, cancellationToken);
        if (bytes.Length == 0)
        {
            throw ApiException.BadRequest($"A JSON body {shape} is required.");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadRequest($"The body must be a JSON object {shape}.");
            }

            var values = new JsonElement?[fields.Length];
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var index = Array.IndexOf(fields, property.Name);
                if (index < 0)
                {
                    throw ApiException.BadRequest(fields.Length == 1
                        ? $"Unknown field '{Truncate(property.Name)}'; the only field is '{fields[0]}'."
                        : $"Unknown field '{Truncate(property.Name)}'; the fields are {string.Join(" and ", fields.Select(f => $"'{f}'"))}.");
                }

                if (values[index] is not null)
                {
                    throw ApiException.BadRequest($"The field '{fields[index]}' appears more than once.");
                }

                values[index] = property.Value.Clone();
            }

            var result = new JsonElement[fields.Length];
            for (var i = 0; i < fields.Length; i++)
            {
                result[i] = values[i] ?? throw ApiException.BadRequest($"The field '{fields[i]}' is required.");
            }

            return result;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or System.Text.DecoderFallbackException)
        {
            // Malformed JSON, and invalid UTF-8 that System.Text.Json only notices when a name or string is decoded.
            throw ApiException.BadRequest("The body is not valid UTF-8 JSON.");
        }
    }

    /// <summary>Reads <c>{"amount": n}</c>: n must be a JSON integer that fits in 64 bits.</summary>
    public static async Task<long> ReadAmountAsync(HttpRequest request, CancellationToken cancellationToken)
        => Amount(await ReadSingleFieldAsync(request, "amount", cancellationToken));

    /// <summary>Reads <c>{"toUserId": "uuid", "amount": n}</c>; the receiver is returned in canonical (lower-case) form.</summary>
    public static async Task<(string ToUserId, long Amount)> ReadTransferAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var values = await ReadFieldsAsync(request, ["toUserId", "amount"], cancellationToken);
        if (values[0].ValueKind != JsonValueKind.String)
        {
            throw ApiException.BadRequest("'toUserId' must be a JSON string holding the receiver's UUID (not a number, boolean, null, array or object).");
        }

        return (Ids.ParseOrThrow(values[0].GetString(), "toUserId"), Amount(values[1]));
    }

    private static long Amount(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw ApiException.BadRequest("'amount' must be a JSON integer (not a string, boolean, null, array or object).");
        }

        if (!value.TryGetInt64(out var amount))
        {
            throw ApiException.BadRequest("'amount' must be a whole number between -9223372036854775808 and 9223372036854775807 without fraction or exponent.");
        }

        return amount;
    }

    /// <summary>Reads <c>{"transactionId": "uuid"}</c>.</summary>
    public static async Task<string> ReadTransactionIdAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var value = await ReadSingleFieldAsync(request, "transactionId", cancellationToken);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw ApiException.BadRequest("'transactionId' must be a JSON string holding a UUID.");
        }

        return Ids.ParseOrThrow(value.GetString(), "transactionId");
    }

    private static void RequireJsonContentType(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ApiException(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType, "The body must be sent as Content-Type: application/json (UTF-8).");
        }
    }

    private static async Task<byte[]> ReadCappedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw TooLarge();
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var total = 0;
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(total, MaxBytes + 1 - total), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > MaxBytes)
                {
                    throw TooLarge();
                }
            }

            return buffer.AsSpan(0, total).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ApiException TooLarge()
        => new(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"The body is larger than {MaxBytes} bytes.");

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "...";
}
