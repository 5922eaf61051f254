using DualLock;
using DualLock.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Runs minimal-API handlers inside a named lock strategy: <c>app.MapPost(...).WithLock("charge", "user-point", "userId")</c>.</summary>
/// <remarks>
/// The handler runs inside the strategy's work, so the lock is held and the strategy's transaction is open while it
/// runs; <see cref="LockHttpContextExtensions.GetLockContext"/> reaches the transaction and the fencing token. A result
/// with a status of 400 or more (<see cref="IStatusCodeHttpResult"/>, or the status the handler set on the response)
/// rolls the transaction back and is still the answer. A lock failure is thrown for the exception handler
/// (<c>AddDualLockProblemDetails</c> answers each with its status). The result is written after the lock is released.
/// </remarks>
public static class LockEndpointConventionBuilderExtensions
{
    /// <summary>Locks <c>resource:{route value}</c> (for example <c>user-point:42</c>) around every request's handler.</summary>
    /// <typeparam name="TBuilder">An endpoint or a group of endpoints.</typeparam>
    /// <param name="builder">The endpoint (<c>MapPost</c>) or group (<c>MapGroup</c>).</param>
    /// <param name="strategy">The name of a registered strategy (<c>AddDualStrategy("charge", ...)</c>).</param>
    /// <param name="resource">The key's resource, for example <c>user-point</c>.</param>
    /// <param name="routeValue">The route parameter whose value is the key's id, for example <c>userId</c> of <c>/users/{userId}/charge</c>.</param>
    /// <param name="scope">The key's operation scope, or <see langword="null"/> to lock every operation on the resource.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="resource"/> or <paramref name="scope"/> is not a valid key part (<see cref="LockKey"/>).</exception>
    /// <remarks>
    /// A route without the parameter fails when the endpoints are built (at startup). A request whose value cannot be a
    /// key id (longer than <see cref="LockKey.MaxIdLength"/>, with <c>:</c> or whitespace) is answered 400 problem
    /// details with code <see cref="LockErrorCodes.KeyInvalid"/>, and the handler does not run.
    /// </remarks>
    public static TBuilder WithLock<TBuilder>(this TBuilder builder, string strategy, string resource, string routeValue, string? scope = null)
        where TBuilder : IEndpointConventionBuilder
    {
        var keys = LockKeySource.FromRoute(resource, routeValue, scope);
        builder.Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder route && route.RoutePattern.GetParameter(routeValue) is null)
            {
                throw new InvalidOperationException(
                    $"Endpoint '{route.DisplayName}' is locked by route value '{routeValue}' (WithLock(\"{strategy}\", \"{resource}\", \"{routeValue}\")), but its route '{route.RoutePattern.RawText}' has no such parameter.");
            }
        });
        return builder.WithLock(strategy, keys);
    }

    /// <summary>Locks the key <paramref name="key"/> makes from each request around its handler.</summary>
    /// <typeparam name="TBuilder">An endpoint or a group of endpoints.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="strategy">The name of a registered strategy.</param>
    /// <param name="key">Makes the key, for example <c>http =&gt; new LockKey("order", Guid.Parse((string)http.GetRouteValue("id")!))</c>; what it throws reaches the exception handler unchanged (a 400 of your own).</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithLock<TBuilder>(this TBuilder builder, string strategy, Func<HttpContext, LockKey> key)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithLock(strategy, LockKeySource.From(key));

    private static TBuilder WithLock<TBuilder>(this TBuilder builder, string strategy, LockKeySource keys)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(strategy);
        return builder.AddEndpointFilter(new LockEndpointFilter(strategy, keys));
    }
}
