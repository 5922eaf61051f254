using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DualLock.Tests.Redis;

public sealed class RedisLockOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid()
    {
        new RedisLockOptions().Validate();
        new RedlockOptions().Validate();
        Assert.Equal(TimeSpan.FromSeconds(10) / 3, new RedisLockOptions().EffectiveRenewalInterval);
    }

    [Theory]
    [InlineData("RenewalInterval", "shorter than the lease")]
    [InlineData("Lease", "Lease must be between")]
    [InlineData("MaxHoldTime", "MaxHoldTime must be between")]
    [InlineData("OperationTimeout", "OperationTimeout must be positive")]
    [InlineData("MaxLocalWaiters", "MaxLocalWaiters must be at least 1")]
    [InlineData("KeyPrefix", "KeyPrefix must be non-empty")]
    [InlineData("RecheckInterval", "RecheckInterval must be between")]
    [InlineData("MaxConsecutiveHandoffs", "must not be negative")]
    public void Validate_InvalidOption_FailsNamingIt(string option, string message)
    {
        var options = new RedisLockOptions();
        switch (option)
        {
            case "RenewalInterval": options.RenewalInterval = options.Lease; break;
            case "Lease": options.Lease = TimeSpan.FromMilliseconds(10); break;
            case "MaxHoldTime": options.MaxHoldTime = TimeSpan.FromSeconds(1); break;
            case "OperationTimeout": options.OperationTimeout = TimeSpan.Zero; break;
            case "MaxLocalWaiters": options.MaxLocalWaiters = 0; break;
            case "KeyPrefix": options.KeyPrefix = "a{b}"; break;
            case "RecheckInterval": options.RecheckInterval = TimeSpan.Zero; break;
            case "MaxConsecutiveHandoffs": options.MaxConsecutiveHandoffs = -1; break;
        }

        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Contains("RedisLockOptions." + option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedlockValidate_RenewalNotShorterThanLease_FailsNamingRedlockOptions()
    {
        var ex = Assert.Throws<ArgumentException>(new RedlockOptions { RenewalInterval = TimeSpan.FromSeconds(20) }.Validate);
        Assert.Contains("RedlockOptions.RenewalInterval", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10_000, 9_000, 1_000)] // a failed renewal at 9 s: the retry at 18 s is far past the lease
    [InlineData(10_000, 5_000, 5_000)] // renewal interval + operation timeout == lease
    [InlineData(1_000, 200, 500)] // a renewal answering after the next was due: 500 + 500 == lease
    public void Validate_LossCouldBeNoticedAfterTheLeaseEnded_Fails(int leaseMs, int renewalMs, int operationMs)
    {
        var options = new RedisLockOptions
        {
            Lease = TimeSpan.FromMilliseconds(leaseMs),
            RenewalInterval = TimeSpan.FromMilliseconds(renewalMs),
            OperationTimeout = TimeSpan.FromMilliseconds(operationMs),
            MaxHoldTime = TimeSpan.FromMinutes(1),
            MaxHandoffTime = TimeSpan.Zero,
        };

        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("max(RenewalInterval, OperationTimeout) + OperationTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RedisLockOptions.RenewalInterval", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10_000, 8_999, 1_000)]
    [InlineData(1_000, 200, 399)]
    public void Validate_LossAlwaysNoticedBeforeTheLeaseEnds_Passes(int leaseMs, int renewalMs, int operationMs)
        => new RedisLockOptions
        {
            Lease = TimeSpan.FromMilliseconds(leaseMs),
            RenewalInterval = TimeSpan.FromMilliseconds(renewalMs),
            OperationTimeout = TimeSpan.FromMilliseconds(operationMs),
            MaxHandoffTime = TimeSpan.Zero,
        }.Validate();

    [Fact]
    public void RedlockValidate_RenewalPlusTwiceTheOperationTimeoutNotShorterThanLease_Fails()
    {
        // A Redlock renewal is bounded by twice the operation timeout (every node, then the verdict).
        var ex = Assert.Throws<ArgumentException>(new RedlockOptions { Lease = TimeSpan.FromSeconds(10), RenewalInterval = TimeSpan.FromSeconds(8), OperationTimeout = TimeSpan.FromSeconds(1) }.Validate);
        Assert.Contains("RedlockOptions.RenewalInterval", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 x OperationTimeout", ex.Message, StringComparison.Ordinal);
        new RedlockOptions { Lease = TimeSpan.FromSeconds(10), RenewalInterval = TimeSpan.FromSeconds(7.9), OperationTimeout = TimeSpan.FromSeconds(1) }.Validate();
    }

    [Fact]
    public void AddRedisLock_InvalidOptions_FailWhenBuiltNamingPipelineAndOption()
    {
        var builder = new LockPipelineBuilder { Name = "charge" };
        var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(1), RenewalInterval = TimeSpan.FromSeconds(2) };
        builder.AddRedisLock(redis, options);
        options.RenewalInterval = null; // the copy taken when added is what is validated
        var ex = Assert.Throws<ArgumentException>(() => builder.Build());
        Assert.StartsWith("Pipeline 'charge': RedisLockOptions.RenewalInterval", ex.Message, StringComparison.Ordinal);
        redis.Dispose();
    }

    [Fact]
    public void AddRedis_InvalidOptions_FailValidationAndTwiceIsHarmless()
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddRedis("127.0.0.1:1", o => o.MaxLocalWaiters = 0).AddRedis("127.0.0.1:2");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RedisLockOptions>>().Value);
        Assert.Contains("MaxLocalWaiters", ex.Message, StringComparison.Ordinal);
        Assert.Single(services, d => d.ServiceType == typeof(StackExchange.Redis.IConnectionMultiplexer));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<RedisLockOptions>));
    }
}
