using DualLock;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DualLock in a service collection.</summary>
public static class DualLockServiceCollectionExtensions
{
    /// <summary>Registers DualLock's shared services; calling it again is harmless.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to register named pipelines with.</returns>
    public static DualLockBuilder AddDualLock(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LockPipelineOptions>, LockPipelineOptionsValidator>());
        return new DualLockBuilder(services);
    }

    /// <summary>Registers DualLock and the strategies and operations of <paramref name="section"/> (see <see cref="DualLockBuilder.AddStrategiesFrom"/>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section, for example <c>configuration.GetSection("DualLock")</c>.</param>
    /// <returns>A builder to add the packages' kinds (<c>AddMySql()</c>, <c>AddRedis(...)</c>) and more strategies to.</returns>
    public static DualLockBuilder AddDualLock(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration section)
        => services.AddDualLock().AddStrategiesFrom(section);

    /// <summary>Registers DualLock and lets <paramref name="configure"/> add named pipelines.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Registers pipelines on the builder.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDualLock(this IServiceCollection services, Action<DualLockBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(services.AddDualLock());
        return services;
    }
}
