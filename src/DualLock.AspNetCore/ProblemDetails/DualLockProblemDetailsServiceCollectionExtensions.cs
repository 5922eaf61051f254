using DualLock.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DualLock's answers to lock failures.</summary>
public static class DualLockProblemDetailsServiceCollectionExtensions
{
    /// <summary>
    /// Registers problem details and an <see cref="Microsoft.AspNetCore.Diagnostics.IExceptionHandler"/> that answers
    /// each lock failure with its status, <c>code</c>, <c>outcome</c> and <c>Retry-After</c>
    /// (<see cref="LockHttpErrors"/>, docs/failures.md) instead of a 500; calling it again is harmless.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// Add <c>app.UseExceptionHandler()</c> to the pipeline: the handler runs there. Exceptions that are not lock or
    /// lock-service failures are left to the next handler (by default a 500). A request whose client went away
    /// (<see cref="OperationCanceledException"/> with <c>RequestAborted</c> fired) gets no answer.
    /// </remarks>
    public static IServiceCollection AddDualLockProblemDetails(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddProblemDetails();
        services.AddExceptionHandler<LockExceptionHandler>();
        return services;
    }
}
