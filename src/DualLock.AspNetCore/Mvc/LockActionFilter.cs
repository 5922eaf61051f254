using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.AspNetCore;

/// <summary>The action filter <see cref="WithLockAttribute"/> creates: the action runs inside the strategy's work.</summary>
internal sealed class LockActionFilter(string strategy, LockKeySource keys) : IAsyncActionFilter
{
    private static readonly Func<LockContext, (HttpContext Http, ActionExecutionDelegate Next), CancellationToken, ValueTask<ActionExecutedContext>> RunAction
        = static async (lockContext, call, _) =>
        {
            ActionExecutedContext executed;
            call.Http.Features.Set<ILockContextFeature>(new LockContextFeature(lockContext));
            try
            {
                executed = await call.Next().ConfigureAwait(false);
            }
            finally
            {
                call.Http.Features.Set<ILockContextFeature>(null);
            }

            if (executed.Exception is not null && !executed.ExceptionHandled)
            {
                // The action threw: throwing it here rolls the transaction back, and MVC's exception handling sees the same exception.
                (executed.ExceptionDispatchInfo ?? ExceptionDispatchInfo.Capture(executed.Exception)).Throw();
            }

            var status = HandlerOutcome.StatusOf(executed.Result, call.Http.Response);
            return HandlerOutcome.IsError(status) ? throw new ErrorResultException(executed.Result, status) : executed;
        };

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.TryCreate(http, out var key, out var problem))
        {
            context.Result = new ObjectResult(LockKeyProblem.Details(problem!)) { StatusCode = StatusCodes.Status400BadRequest };
            return;
        }

        var lockStrategy = http.RequestServices.GetRequiredKeyedService<ILockStrategy>(strategy);
        try
        {
            await lockStrategy.ExecuteAsync(key, (http, next), RunAction, cancellationToken: http.RequestAborted).ConfigureAwait(false);
        }
        catch (ErrorResultException)
        {
            // Rolled back; the executed context still holds the action's result, which MVC executes as the answer.
        }
    }
}
