using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Redis connection and <see cref="RedisLockOptions"/> for DualLock's Redis stages.</summary>
public static class RedisDualLockBuilderExtensions
{
    /// <summary>
    /// Registers an <see cref="IConnectionMultiplexer"/> for <paramref name="connectionString"/> (unless one is
    /// registered already) and the <see cref="RedisLockOptions"/>, validated when the host starts.
    /// </summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="connectionString">A StackExchange.Redis configuration string, for example <c>localhost:6379</c>. <c>abortConnect=false</c> is applied, so the application starts while Redis is down.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddRedis(this DualLockBuilder builder, string connectionString, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        builder.Services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(configuration));
        return builder.AddRedis(configure);
    }

    /// <summary>Registers the <see cref="RedisLockOptions"/>, validated when the host starts, for an <see cref="IConnectionMultiplexer"/> registered elsewhere.</summary>
    /// <param name="builder">The DualLock builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    public static DualLockBuilder AddRedis(this DualLockBuilder builder, Action<RedisLockOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<RedisLockOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisLockOptions>, RedisLockOptionsValidator>());
        return builder;
    }
}
