using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace DualLock.AspNetCore;

/// <summary>The 400 a locked endpoint answers, without running its handler, when the route value cannot be a key.</summary>
internal static class LockKeyProblem
{
    public static ProblemDetails Details(string detail)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request does not identify what to lock.",
            Detail = detail,
        };
        problem.Extensions["code"] = LockErrorCodes.KeyInvalid;
        return problem;
    }

    public static IResult Result(string detail) => TypedResults.Problem(Details(detail));
}
