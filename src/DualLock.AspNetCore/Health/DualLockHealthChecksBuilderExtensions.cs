using DualLock;
using DualLock.AspNetCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks per lock strategy, built on <see cref="LockPipeline.GetServiceState"/>.</summary>
public static class DualLockHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check for the strategy <paramref name="strategy"/>: Healthy while its lock services answer,
    /// Degraded while it falls back without one (dual with Redis down), <paramref name="failureStatus"/> while it
    /// cannot lock (distributed with Redis down). Makes no call to any service: it reads what the stages know.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="strategy">The name of a strategy registered with <c>AddDualLock()</c>.</param>
    /// <param name="name">The check's name; default <c>duallock-{strategy}</c>.</param>
    /// <param name="failureStatus">The status while the strategy cannot lock; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (<c>ready</c>).</param>
    /// <returns>The builder.</returns>
    /// <remarks>The strategy is resolved when the check runs; a name never registered fails that check (with <paramref name="failureStatus"/>), not the others.</remarks>
    public static IHealthChecksBuilder AddDualLock(
        this IHealthChecksBuilder builder,
        string strategy,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(strategy);
        return builder.Add(new HealthCheckRegistration(
            name ?? $"duallock-{strategy}",
            services => new LockStrategyHealthCheck(services, strategy),
            failureStatus ?? HealthStatus.Unhealthy,
            tags));
    }
}
