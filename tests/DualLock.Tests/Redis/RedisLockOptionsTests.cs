using DualLock.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DualLock.Tests.Redis;

public sealed class RedisLockOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid()
    {
        Assert.Empty(new RedisLockOptions().Validate());
        Assert.Empty(new RedlockOptions().Validate());
        Assert.Equal(TimeSpan.FromSeconds(10) / 3, new RedisLockOptions().EffectiveRenewalInterval);
    }

    [Theory]
    [InlineData("RenewalInterval", "RedisLockOptions.RenewalInterval must be positive and shorter than Lease (10 s)")]
    [InlineData("Lease", "RedisLockOptions.Lease must be between 100 ms and 1.00:00:00 (was 10 ms)")]
    [InlineData("MaxHoldTime", "RedisLockOptions.MaxHoldTime must be between 10 s and 1.00:00:00 (was 1 s)")]
    [InlineData("OperationTimeout", "RedisLockOptions.OperationTimeout must be positive and shorter than Lease (10 s) (was 00:00:00)")]
    [InlineData("MaxQueueLength", "RedisLockOptions.MaxQueueLength must be at least 1 (was 0)")]
    [InlineData("KeyPrefix", "RedisLockOptions.KeyPrefix must be non-empty without braces, whitespace or control characters (was 'a{b}')")]
    [InlineData("RecheckInterval", "RedisLockOptions.RecheckInterval must be between 1 ms and 10 s (was 00:00:00)")]
    [InlineData("MaxConsecutiveHandoffs", "RedisLockOptions.MaxConsecutiveHandoffs must be at least 0 (was -1)")]
    [InlineData("MaxHandoffTime", "RedisLockOptions.MaxHandoffTime must be at least zero and shorter than Lease (10 s) (was 10 s)")]
    [InlineData("OutageProbeInterval", "RedisLockOptions.OutageProbeInterval must be between 10 ms and 10 s (was 1 ms)")]
    [InlineData("WaitForReplicas", "RedisLockOptions.WaitForReplicas must be between 0 and 16 (was 17)")]
    [InlineData("Name", "RedisLockOptions.Name must not be empty (was ' ')")]
    public void Validate_InvalidOption_ReportsItsRuleAndValue(string option, string message)
    {
        var options = new RedisLockOptions();
        switch (option)
        {
            case "RenewalInterval": options.RenewalInterval = options.Lease; break;
            case "Lease": options.Lease = TimeSpan.FromMilliseconds(10); break;
            case "MaxHoldTime": options.MaxHoldTime = TimeSpan.FromSeconds(1); break;
            case "OperationTimeout": options.OperationTimeout = TimeSpan.Zero; break;
            case "MaxQueueLength": options.MaxQueueLength = 0; break;
            case "KeyPrefix": options.KeyPrefix = "a{b}"; break;
            case "RecheckInterval": options.RecheckInterval = TimeSpan.Zero; break;
            case "MaxConsecutiveHandoffs": options.MaxConsecutiveHandoffs = -1; break;
            case "MaxHandoffTime": options.MaxHandoffTime = options.Lease; break;
            case "OutageProbeInterval": options.OutageProbeInterval = TimeSpan.FromMilliseconds(1); break;
            case "WaitForReplicas": options.WaitForReplicas = 17; break;
            case "Name": options.Name = " "; break;
        }

        var problem = Assert.Single(options.Validate());
        Assert.StartsWith(message, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralInvalidOptions_ReportsEveryOne()
    {
        var options = new RedisLockOptions { Name = "", KeyPrefix = "a b", MaxQueueLength = 0, WaitForReplicas = -1, RecheckInterval = TimeSpan.Zero };

        Assert.Equal(
            [
                "RedisLockOptions.Name must not be empty (was '').",
                "RedisLockOptions.KeyPrefix must be non-empty without braces, whitespace or control characters (was 'a b').",
                "RedisLockOptions.WaitForReplicas must be between 0 and 16 (was -1).",
                "RedisLockOptions.MaxQueueLength must be at least 1 (was 0).",
                "RedisLockOptions.RecheckInterval must be between 1 ms and 10 s (was 00:00:00); the upper bound is the lease.",
            ],
            options.Validate());
    }

    [Fact]
    public void RedlockValidate_LeaseRules_NameRedlockOptionsWithoutRewriting()
    {
        var problems = new RedlockOptions { RenewalInterval = TimeSpan.FromSeconds(20), KeyPrefix = "" }.Validate();

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("RedlockOptions.KeyPrefix must be non-empty", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("RedlockOptions.RenewalInterval must be positive and shorter than Lease (10 s) (was 20 s)", problems[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ClockDriftFactor", "RedlockOptions.ClockDriftFactor must be at least 0 and below 0.5 (was NaN).")]
    [InlineData("MaxRetryDelay", "RedlockOptions.MaxRetryDelay must be between 1 ms and 10 s (was 11 s); the upper bound is the lease.")]
    public void RedlockValidate_OwnOption_ReportsItsRuleAndValue(string option, string message)
    {
        var options = new RedlockOptions();
        switch (option)
        {
            case "ClockDriftFactor": options.ClockDriftFactor = double.NaN; break;
            case "MaxRetryDelay": options.MaxRetryDelay = TimeSpan.FromSeconds(11); break;
        }

        Assert.Equal([message], options.Validate());
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

        var problem = Assert.Single(options.Validate());
        Assert.StartsWith("RedisLockOptions.RenewalInterval and OperationTimeout must satisfy max(RenewalInterval, OperationTimeout) + OperationTimeout < Lease", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10_000, 8_999, 1_000)]
    [InlineData(1_000, 200, 399)]
    public void Validate_LossAlwaysNoticedBeforeTheLeaseEnds_Passes(int leaseMs, int renewalMs, int operationMs)
        => Assert.Empty(new RedisLockOptions
        {
            Lease = TimeSpan.FromMilliseconds(leaseMs),
            RenewalInterval = TimeSpan.FromMilliseconds(renewalMs),
            OperationTimeout = TimeSpan.FromMilliseconds(operationMs),
            MaxHandoffTime = TimeSpan.Zero,
        }.Validate());

    [Fact]
    public void RedlockValidate_RenewalPlusTwiceTheOperationTimeoutNotShorterThanLease_Fails()
    {
        // A Redlock renewal is bounded by twice the operation timeout (every node, then the verdict).
        var problem = Assert.Single(new RedlockOptions { Lease = TimeSpan.FromSeconds(10), RenewalInterval = TimeSpan.FromSeconds(8), OperationTimeout = TimeSpan.FromSeconds(1) }.Validate());
        Assert.StartsWith("RedlockOptions.RenewalInterval and OperationTimeout must satisfy max(RenewalInterval, 2 x OperationTimeout) + 2 x OperationTimeout < Lease", problem, StringComparison.Ordinal);
        Assert.Empty(new RedlockOptions { Lease = TimeSpan.FromSeconds(10), RenewalInterval = TimeSpan.FromSeconds(7.9), OperationTimeout = TimeSpan.FromSeconds(1) }.Validate());
    }

    [Fact]
    public void AddRedisLock_InvalidOptions_ThrowWhenAddedListingEveryProblem()
    {
        var builder = new LockPipelineBuilder { Name = "charge" };
        using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(2), RenewalInterval = TimeSpan.FromSeconds(3), MaxQueueLength = 0 };

        var ex = Assert.Throws<ArgumentException>(() => builder.AddRedisLock(redis, options));

        Assert.Equal("options", ex.ParamName);
        Assert.StartsWith("Pipeline 'charge', stage 'redis': 2 invalid option problems:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- RedisLockOptions.RenewalInterval must be positive and shorter than Lease (2 s) (was 3 s)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- RedisLockOptions.MaxQueueLength must be at least 1 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRedisLock_OptionsChangedAfterAdd_DoNotReachTheStage()
    {
        using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");
        var options = new RedisLockOptions { Name = "first" };
        var builder = new LockPipelineBuilder().AddRedisLock(redis, options);
        options.Name = ""; // the copy taken and validated when added is what the stage gets

        Assert.Equal(["first"], builder.Build().StageNames);
    }

    [Fact]
    public void AddRedis_InvalidOptions_FailValidationListingEveryProblemAndTwiceIsHarmless()
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddRedis("127.0.0.1:1", o =>
        {
            o.MaxQueueLength = 0;
            o.KeyPrefix = "";
        }).AddRedis("127.0.0.1:2");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RedisLockOptions>>().Value);
        Assert.Equal(2, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.StartsWith("RedisLockOptions.MaxQueueLength must be at least 1", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("RedisLockOptions.KeyPrefix must be non-empty", StringComparison.Ordinal));
        Assert.Single(services, d => d.ServiceType == typeof(StackExchange.Redis.IConnectionMultiplexer));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<RedisLockOptions>));
    }

    [Fact]
    public void CoordinationOptions_UseTheLeaseRulesAndTheirOwn()
    {
        Assert.Empty(new RedisSemaphoreOptions().Validate());
        Assert.Empty(new RedisReaderWriterLockOptions().Validate());

        Assert.Equal(
            [
                "RedisSemaphoreOptions.Lease must be between 100 ms and 1.00:00:00 (was 00:00:00).",
                "RedisSemaphoreOptions.MaxQueueLength must be at least 1 (was 0).",
            ],
            new RedisSemaphoreOptions { Lease = TimeSpan.Zero, MaxQueueLength = 0 }.Validate());
        Assert.Equal(
            ["RedisReaderWriterLockOptions.RecheckInterval must be between 1 ms and 10 s (was 11 s); the upper bound is the lease."],
            new RedisReaderWriterLockOptions { RecheckInterval = TimeSpan.FromSeconds(11) }.Validate());
    }

    [Fact]
    public void AddRedisSemaphore_InvalidOptions_ThrowWhenAdded()
    {
        using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");

        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "export" }.AddRedisSemaphore(redis, 2, new RedisSemaphoreOptions { KeyPrefix = "" }));

        Assert.StartsWith("Pipeline 'export', stage 'redis-semaphore': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisReaderWriterLock_InvalidOptions_ListEveryProblemOfEach()
    {
        using var redis = StackExchange.Redis.ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=100");

        var redisSide = Assert.Throws<ArgumentException>(() => RedisReaderWriterLock.Create(redis, redisOptions: new RedisReaderWriterLockOptions { Name = "", KeyPrefix = "" }));
        var lockSide = Assert.Throws<ArgumentException>(() => RedisReaderWriterLock.Create(redis, new ReaderWriterLockOptions { MaxQueueLength = 0 }));

        Assert.Equal("redisOptions", redisSide.ParamName);
        Assert.Contains("2 invalid option problems", redisSide.Message, StringComparison.Ordinal);
        Assert.Contains("- ReaderWriterLockOptions.MaxQueueLength must be at least 1 (was 0).", lockSide.Message, StringComparison.Ordinal);
    }
}
