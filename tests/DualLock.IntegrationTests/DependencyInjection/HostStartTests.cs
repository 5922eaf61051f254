using System.Diagnostics;
using Dapper;
using DualLock.IntegrationTests.MySql;
using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DualLock.IntegrationTests.DependencyInjection;

/// <summary>
/// The host start with Redis unreachable: it waits for the connect at most the connection string's connectTimeout,
/// reports the time it really waited, and does not fail; dual then falls back to its row lock on the real MariaDB,
/// distributed refuses with <see cref="LockUnavailableException"/> (the documented choice: a 503, not a crash loop).
/// </summary>
public sealed class HostStartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_RedisUnreachable_StartsWithinTheConnectBoundThenDualFallsBackAndDistributedRefuses()
    {
        var id = $"h{Guid.NewGuid():N}"[..20];
        await using var table = await MySqlTestTable.CreateAsync(id);
        var logs = new FakeLogCollector();
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        builder.Services.AddDualLock()
            .AddRedis("127.0.0.1:1,connectTimeout=400", o => o.KeyPrefix = "duallock-test")
            .AddDualStrategy("dual", (p, _) => p.AddMySqlTransaction(Servers.MySql).AddMySqlRowLock(table.Name, "id"))
            .AddDistributedStrategy("distributed", (p, _) => p.AddMySqlTransaction(Servers.MySql, o => o.EnforceFencing = true));
        using var host = builder.Build();

        var started = Stopwatch.GetTimestamp();
        await host.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct); // a hang guard, not a timing assert
        var startTook = Stopwatch.GetElapsedTime(started);

        var warning = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 2082);
        var reported = TimeSpan.FromMilliseconds(double.Parse(warning.StructuredState!.Single(kv => kv.Key == "ElapsedMs").Value!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(reported, TimeSpan.Zero, startTook);

        var dual = host.Services.GetRequiredKeyedService<ILockStrategy>("dual");
        var key = new LockKey("host-start", id);
        await dual.ExecuteAsync(key, async (context, ct) =>
        {
            var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 1 WHERE id = @id", new { id }, tx.Transaction);
        }, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(1, await table.ValueAsync(id));

        var distributed = host.Services.GetRequiredKeyedService<ILockStrategy>("distributed");
        var ran = false;
        await Assert.ThrowsAsync<LockUnavailableException>(async () =>
            await distributed.ExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, TimeSpan.FromSeconds(5), Ct));
        Assert.False(ran);
        await host.StopAsync(Ct);
    }
}
