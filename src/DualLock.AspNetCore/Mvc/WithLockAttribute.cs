using Microsoft.AspNetCore.Mvc.Filters;

namespace DualLock.AspNetCore;

/// <summary>
/// Runs a controller action inside a named lock strategy, keyed <c>resource:{route value}</c>: the MVC counterpart of
/// <c>WithLock</c>. An <see cref="Microsoft.AspNetCore.Mvc.IActionResult"/> with a status of 400 or more rolls the
/// transaction back and is still the answer; an exception of the action rolls it back and propagates.
/// </summary>
/// <example><c>[HttpPost("{userId}/charge"), WithLock("charge", "user-point", "userId")]</c></example>
/// <remarks>
/// <see cref="Microsoft.AspNetCore.Http.LockHttpContextExtensions.GetLockContext"/> (<c>HttpContext.GetLockContext()</c>)
/// reaches the transaction and the fencing token inside the action. A missing or invalid route value is answered 400
/// problem details (<see cref="LockErrorCodes.KeyInvalid"/>) without running the action. The result executes after the
/// lock is released.
/// </remarks>
/// <param name="strategy">The name of a registered strategy.</param>
/// <param name="resource">The key's resource, for example <c>user-point</c>.</param>
/// <param name="routeValue">The route value whose value is the key's id.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class WithLockAttribute(string strategy, string resource, string routeValue) : Attribute, IFilterFactory
{
    /// <summary>Gets the name of the strategy.</summary>
    public string Strategy { get; } = strategy;

    /// <summary>Gets the key's resource.</summary>
    public string Resource { get; } = resource;

    /// <summary>Gets the route value whose value is the key's id.</summary>
    public string RouteValue { get; } = routeValue;

    /// <summary>Gets or sets the key's operation scope.</summary>
    /// <value>Default: <see langword="null"/>: the key covers every operation on the resource.</value>
    public string? Scope { get; set; }

    /// <inheritdoc />
    public bool IsReusable => true;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The strategy, resource, route value or scope is empty or not a valid key part.</exception>
    public IFilterMetadata CreateInstance(IServiceProvider serviceProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Strategy);
        return new LockActionFilter(Strategy, LockKeySource.FromRoute(Resource, RouteValue, Scope));
    }
}
