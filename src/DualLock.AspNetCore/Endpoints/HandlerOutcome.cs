using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;

namespace DualLock.AspNetCore;

/// <summary>
/// Decides whether a handler's result is an error answer, which must roll its transaction back: the stages commit
/// whenever the work returns, so the work throws <see cref="ErrorResultException"/> instead and the filter answers
/// the result after the rollback.
/// </summary>
internal static class HandlerOutcome
{
    /// <summary>The status the result answers with: its own, else the one the handler set on the response.</summary>
    public static int StatusOf(object? result, HttpResponse response) => result switch
    {
        IStatusCodeHttpResult { StatusCode: { } status } => status,
        IStatusCodeActionResult { StatusCode: { } status } => status,
        ObjectResult { Value: ProblemDetails { Status: { } status } } => status,
        _ => response.StatusCode,
    };

    public static bool IsError(int status) => status >= StatusCodes.Status400BadRequest;
}

/// <summary>Carries an error result out of the work so the pipeline releases its stages as failed (the transaction rolls back).</summary>
internal sealed class ErrorResultException(object? result, int status) : Exception($"The handler answered {status}; its transaction was rolled back.")
{
    public object? Result { get; } = result;
}
