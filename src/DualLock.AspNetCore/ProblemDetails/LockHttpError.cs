using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace DualLock.AspNetCore;

/// <summary>The HTTP answer to one lock failure: a row of <see cref="LockHttpErrors"/> (and of docs/failures.md).</summary>
public sealed class LockHttpError
{
    internal LockHttpError(int status, string code, string title, int? retryAfterSeconds, LockWriteOutcome outcome)
    {
        Status = status;
        Code = code;
        Title = title;
        RetryAfterSeconds = retryAfterSeconds;
        Outcome = outcome;
    }

    /// <summary>Gets the HTTP status: 503 for a lock failure (retry later), 404 for a missing row.</summary>
    public int Status { get; }

    /// <summary>Gets the stable error code (<see cref="LockErrorCodes"/>), for clients to switch on.</summary>
    public string Code { get; }

    /// <summary>Gets a sentence for people: what happened and what it did to the data.</summary>
    public string Title { get; }

    /// <summary>Gets the <c>Retry-After</c> in seconds, or <see langword="null"/> when a retry would not help.</summary>
    public int? RetryAfterSeconds { get; }

    /// <summary>Gets what the failure did to the data.</summary>
    public LockWriteOutcome Outcome { get; }

    /// <summary>Gets the <see cref="Outcome"/> as the problem details write it: <c>not-applied</c> or <c>unknown</c>.</summary>
    public string OutcomeText => Outcome == LockWriteOutcome.Unknown ? "unknown" : "not-applied";

    /// <summary>Sets the status and <c>Retry-After</c> of <paramref name="response"/>.</summary>
    /// <param name="response">The response, not started yet.</param>
    public void Apply(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = Status;
        if (RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
    }
}
