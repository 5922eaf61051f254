using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.AspNetCore;

/// <summary>
/// Runs a minimal-API handler inside the named strategy's work: the lock is held (and a transaction open) while the
/// handler runs; an error result (status 400 or more) rolls the transaction back and is still the answer.
/// </summary>
internal sealed class LockEndpointFilter(string strategy, LockKeySource keys) : IEndpointFilter
{
    private static readonly Func<LockContext, (EndpointFilterInvocationContext Context, EndpointFilterDelegate Next), CancellationToken, ValueTask<object?>> RunHandler
        = static async (lockContext, call, _) =>
        {
            var http = call.Context.HttpContext;
            http.Features.Set<ILockContextFeature>(new LockContextFeature(lockContext));
            try
            {
                var result = await call.Next(call.Context).ConfigureAwait(false);
                var status = HandlerOutcome.StatusOf(result, http.Response);
                return HandlerOutcome.IsError(status) ? throw new ErrorResultException(result, status) : result;
            }
            finally
            {
                http.Features.Set<ILockContextFeature>(null);
            }
        };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.TryCreate(http, out var key, out var problem))
        {
            return LockKeyProblem.Result(problem!);
        }

        var lockStrategy = http.RequestServices.GetRequiredKeyedService<ILockStrategy>(strategy);
        try
        {
            return await lockStrategy.ExecuteAsync(key, (context, next), RunHandler, cancellationToken: http.RequestAborted).ConfigureAwait(false);
        }
        catch (ErrorResultException error)
        {
            return error.Result; // rolled back; the client still gets the handler's answer, not a 500
        }
    }
}
