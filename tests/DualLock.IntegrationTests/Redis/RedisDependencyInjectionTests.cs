using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

public sealed class RedisDependencyInjectionTests
{
    /// <summary>The caller's wait in the outage cases; the connect timeout is far longer, so a connect inside the call shows.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(800);

    /// <summary>Slack for a loaded 2-core machine, far below the connect timeout a blocking connect would add.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(1500);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddRedis_ConnectionStringAndPipeline_LocksThroughRedis()
    {
        var services = new ServiceCollection();
        services.AddDualLock()
            .AddRedis(Servers.Redis, o => o.KeyPrefix = "duallock")
            .AddPipeline("di-redis", (b, sp) => b.AddRedisLock(sp, o => o.Lease = TimeSpan.FromSeconds(5)));
        await using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredKeyedService<LockPipeline>("di-redis");
        var redis = provider.GetRequiredService<IConnectionMultiplexer>();
        var key = NewKey();

        var ttl = await pipeline.ExecuteAsync(key, async (_, _) => await redis.GetDatabase().KeyTimeToLiveAsync(LockName(key)), cancellationToken: Ct);

        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AddRedis_ReachableEndpoint_HostStartConnectsBeforeAnythingIsResolved()
    {
        var name = "dl-di-" + Guid.NewGuid().ToString("N")[..12];
        using var host = Host(Servers.Redis + ",name=" + name);

        await host.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var shared = await Servers.SharedRedisAsync();
        var clients = (string)(await shared.GetDatabase().ExecuteAsync("CLIENT", "LIST"))!;
        Assert.Contains("name=" + name + " ", clients, StringComparison.Ordinal);
        var key = NewKey();
        Assert.True(await host.Services.GetRequiredKeyedService<LockPipeline>("di-redis").ExecuteAsync(key, (_, _) => ValueTask.FromResult(true), cancellationToken: Ct));
        await host.StopAsync(Ct);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AddRedis_UnreachableEndpointWithoutHostStart_FirstLockCallFailsWithinItsWaitAndReportsTheTimeItTook(bool silent)
    {
        using var endpoint = new Endpoint(silent);
        using var host = Host(endpoint.Address + ",connectTimeout=5000");
        var clock = Stopwatch.StartNew();

        // Resolving the strategy belongs to the request: it is inside the measured time.
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => host.Services.GetRequiredKeyedService<LockPipeline>("di-redis")
            .ExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(true), Wait, Ct).AsTask());
        clock.Stop();

        AssertBoundedAndTrue(ex, clock.Elapsed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AddRedis_UnreachableEndpoint_HostStartIsBoundedByTheConnectTimeoutAndTheFirstLockCallFailsWithinItsWait(bool silent)
    {
        var connectTimeout = TimeSpan.FromSeconds(2);
        using var endpoint = new Endpoint(silent);
        using var host = Host($"{endpoint.Address},connectTimeout={connectTimeout.TotalMilliseconds}");
        var start = Stopwatch.StartNew();
        await host.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        start.Stop();
        Assert.True(start.Elapsed < connectTimeout + Slack, $"The host took {start.Elapsed.TotalMilliseconds:0} ms to start (connect timeout {connectTimeout.TotalMilliseconds:0} ms).");

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => host.Services.GetRequiredKeyedService<LockPipeline>("di-redis")
            .ExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(true), Wait, Ct).AsTask());
        clock.Stop();

        AssertBoundedAndTrue(ex, clock.Elapsed);
        await host.StopAsync(Ct);
    }

    private static void AssertBoundedAndTrue(LockUnavailableException ex, TimeSpan measured)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"measured {measured.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.True(measured < Wait + Slack, $"The first lock call took {measured.TotalMilliseconds:0} ms with a wait of {Wait.TotalMilliseconds:0} ms: {ex.Message}");

        // The time the exception reports is the time the caller lost, not a part of it.
        Assert.True(
            (measured - ex.Elapsed).Duration() < TimeSpan.FromMilliseconds(500),
            $"The exception says {ex.Elapsed.TotalMilliseconds:0} ms, the call took {measured.TotalMilliseconds:0} ms: {ex.Message}");
        Assert.Contains($"gave up after {ex.Elapsed.TotalMilliseconds:0} ms", ex.Message, StringComparison.Ordinal);
    }

    private static IHost Host(string connectionString)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddDualLock()
            .AddRedis(connectionString, o => o.OperationTimeout = TimeSpan.FromMilliseconds(500))
            .AddPipeline("di-redis", (b, sp) => b.AddRedisLock(sp));
        return builder.Build();
    }

    /// <summary>
    /// A loopback endpoint that is no Redis: closed (connecting is refused at once) or silent (the TCP connect
    /// succeeds, nothing ever answers, so a connect lasts its whole connect timeout).
    /// </summary>
    private sealed class Endpoint : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly bool _silent;

        public Endpoint(bool silent)
        {
            _silent = silent;
            _listener.Start();
            Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            if (!silent)
            {
                _listener.Stop();
            }
        }

        public string Address { get; }

        public void Dispose()
        {
            if (_silent)
            {
                _listener.Stop();
            }

            _listener.Dispose();
        }
    }
}
