namespace UserPointApi.Api;

/// <summary>The envelope of every response: <c>{"success", "data", "error"}</c>, as the seed's clients expect.</summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed record ApiEnvelope<T>(bool Success, T? Data, ApiErrorBody? Error);

/// <summary>A stable error code (see <see cref="ErrorCodes"/>) and a human-readable message.</summary>
public sealed record ApiErrorBody(string Code, string Message);
