using DualLock;
using DualLock.AspNetCore;

namespace Microsoft.AspNetCore.Http;

/// <summary>Reaches the lock a handler runs in from its <see cref="HttpContext"/>.</summary>
public static class LockHttpContextExtensions
{
    /// <summary>
    /// Gets the <see cref="LockContext"/> of the lock the handler runs in: its transaction
    /// (<c>GetRequiredFeature&lt;MySqlTransactionFeature&gt;()</c>) and fencing token.
    /// </summary>
    /// <param name="httpContext">The request's context.</param>
    /// <returns>The lock context.</returns>
    /// <exception cref="InvalidOperationException">The handler does not run inside a lock: its endpoint has no <c>WithLock</c> (or action no <see cref="WithLockAttribute"/>), or the handler has returned.</exception>
    public static LockContext GetLockContext(this HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        return httpContext.Features.Get<ILockContextFeature>()?.Context ?? throw new InvalidOperationException(
            "This request's handler does not run inside a lock: add .WithLock(strategy, ...) to its endpoint, or [WithLock] to the action. The lock context exists only while the handler runs.");
    }
}
