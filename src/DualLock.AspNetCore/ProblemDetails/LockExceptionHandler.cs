using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace DualLock.AspNetCore;

/// <summary>Answers every lock failure with its row of <see cref="LockHttpErrors"/> as problem details; leaves any other exception to the next handler.</summary>
internal sealed class LockExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true; // the client went away: nobody reads an answer
        }

        if (LockHttpErrors.Find(exception) is not { } error)
        {
            return false;
        }

        error.Apply(httpContext.Response);
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = error.Status, Title = error.Title };
        details.Extensions["code"] = error.Code;
        details.Extensions["outcome"] = error.OutcomeText;
        // A client that accepts no problem details still gets the status and Retry-After, never the default 500.
        await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = details, Exception = exception }).ConfigureAwait(false);
        return true;
    }
}
