using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DualLock.AspNetCore;

/// <summary>
/// A strategy's health from its <see cref="LockPipeline.GetServiceState"/>: Healthy while every lock service answers,
/// Degraded while the strategy falls back without one (a dual strategy on its database lock), the registration's
/// failure status (default Unhealthy) while it cannot lock at all (a distributed strategy with Redis down).
/// </summary>
internal sealed class LockStrategyHealthCheck(IServiceProvider services, string strategy) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Resolved here, not in the registration's factory: a name never registered fails this check, not the whole report.
        if (services.GetKeyedService<LockPipeline>(strategy) is not { } pipeline)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"No lock strategy named '{strategy}' is registered (AddDualLock().Add...Strategy(\"{strategy}\", ...))."));
        }

        return Task.FromResult(Result(pipeline.GetServiceState(), context.Registration.FailureStatus));
    }

    /// <summary>The mapping from state to health, with one entry per stage that knows of an outage.</summary>
    internal static HealthCheckResult Result(LockServiceState state, HealthStatus failureStatus)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var stage in state.Stages)
        {
            if (stage.Outage is { } outage)
            {
                data[stage.Stage] = string.Create(CultureInfo.InvariantCulture, $"down since {outage.Since:O}: {outage.Reason}");
            }
        }

        return state.Status switch
        {
            LockServiceStatus.Available => HealthCheckResult.Healthy($"Strategy '{state.Pipeline}': every lock service answers.", data),
            LockServiceStatus.FallingBack => HealthCheckResult.Degraded(
                $"Strategy '{state.Pipeline}' falls back without {string.Join(", ", data.Keys)} (its service is down); its inner locks keep the data exact.", data: data),
            _ => new HealthCheckResult(failureStatus, $"Strategy '{state.Pipeline}' cannot lock: {string.Join(", ", data.Keys)} is down and nothing falls back.", data: data),
        };
    }
}
