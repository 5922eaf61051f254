using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DualLock.AspNetCore;

/// <summary>Where a locked endpoint's key comes from: a route value under a resource, or the caller's function.</summary>
internal sealed class LockKeySource
{
    private readonly string? _resource;
    private readonly string? _scope;
    private readonly Func<HttpContext, LockKey>? _create;

    private LockKeySource(string? resource, string? routeValue, string? scope, Func<HttpContext, LockKey>? create)
    {
        _resource = resource;
        RouteValue = routeValue;
        _scope = scope;
        _create = create;
    }

    /// <summary>Gets the route value the key's id is read from, or <see langword="null"/> for a caller's function.</summary>
    public string? RouteValue { get; }

    /// <summary>The key <c>resource:{route value}[:scope]</c>; the resource and scope are checked now, at startup, not per request.</summary>
    public static LockKeySource FromRoute(string resource, string routeValue, string? scope)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resource);
        ArgumentException.ThrowIfNullOrWhiteSpace(routeValue);
        _ = new LockKey(resource, "0", scope); // the same rules the per-request key applies, failing at the registration
        return new LockKeySource(resource, routeValue, scope, null);
    }

    /// <summary>The caller's function: what it throws (its own 400, say) reaches the caller's error handling unchanged.</summary>
    public static LockKeySource From(Func<HttpContext, LockKey> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        return new LockKeySource(null, null, null, create);
    }

    /// <summary>Creates the request's key, or says why the route value cannot be one (the request is then answered 400).</summary>
    public bool TryCreate(HttpContext http, out LockKey key, out string? problem)
    {
        problem = null;
        if (_create is not null)
        {
            key = _create(http);
            return true;
        }

        key = default;
        var value = http.GetRouteValue(RouteValue!);
        var id = value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
        if (string.IsNullOrEmpty(id))
        {
            problem = $"The route value '{RouteValue}' that identifies the locked '{_resource}' is missing.";
            return false;
        }

        try
        {
            key = new LockKey(_resource!, id, _scope);
            return true;
        }
        catch (ArgumentException ex)
        {
            // Names the rule broken (length, ':' or whitespace), never echoes the value.
            problem = $"The route value '{RouteValue}' cannot identify a locked '{_resource}': {ex.Message.Replace("Lock key id", "the id", StringComparison.Ordinal)}";
            return false;
        }
    }
}
