namespace UserPointApi.Api;

/// <summary>An expected failure with its HTTP status and stable code; the error middleware writes it as an envelope.</summary>
public sealed class ApiException : Exception
{
    public ApiException(int statusCode, string code, string message, int? retryAfterSeconds = null)
        : base(message)
    {
        StatusCode = statusCode;
        Code = code;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public ApiException()
        : this(StatusCodes.Status500InternalServerError, ErrorCodes.ServerError, "Unexpected error.")
    {
    }

    public ApiException(string message)
        : this(StatusCodes.Status500InternalServerError, ErrorCodes.ServerError, message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.Status500InternalServerError;
        Code = ErrorCodes.ServerError;
    }

    public int StatusCode { get; }

    public string Code { get; }

    public int? RetryAfterSeconds { get; }

    public static ApiException BadRequest(string message, string code = ErrorCodes.InvalidArgument) => new(StatusCodes.Status400BadRequest, code, message);

    public static ApiException Conflict(string code, string message) => new(StatusCodes.Status409Conflict, code, message);
}
