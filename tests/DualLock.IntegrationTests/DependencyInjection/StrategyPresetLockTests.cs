using Dapper;
using DualLock.IntegrationTests.MySql;
using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.IntegrationTests.DependencyInjection;

/// <summary>
/// Every preset, registered in one line, takes a lock against the real servers: the work runs once
/// (in the preset's transaction where it has one, committed), and a second caller is refused while
/// the first holds the key.
/// </summary>
public sealed class StrategyPresetLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Presets => ["in-process", "pessimistic", "named", "distributed", "dual"];

    [Theory]
    [MemberData(nameof(Presets))]
    public async Task Preset_TakesTheLockAndRefusesASecondHolder(string preset)
    {
        var id = $"p{Guid.NewGuid():N}"[..20];
        await using var table = await MySqlTestTable.CreateAsync(id);
        await using var services = new ServiceCollection()
            .AddDualLock(b =>
            {
                b.AddRedis(Servers.Redis, o => o.KeyPrefix = "duallock-test");
                _ = preset switch
                {
                    "in-process" => b.AddInProcessStrategy(preset),
                    "pessimistic" => b.AddPessimisticStrategy(preset, o =>
                    {
                        o.ConnectionString = Servers.MySql;
                        o.Table = table.Name;
                        o.KeyColumn = "id";
                    }),
                    "named" => b.AddNamedLockStrategy(preset, o => o.ConnectionString = Servers.MySql),
                    "distributed" => b.AddDistributedStrategy(preset, (p, _) => p.AddMySqlTransaction(Servers.MySql, o => o.EnforceFencing = true)),
                    "dual" => b.AddDualStrategy(preset, (p, _) => p.AddMySqlTransaction(Servers.MySql, o => o.EnforceFencing = true).AddMySqlRowLock(table.Name, "id")),
                    _ => throw new ArgumentOutOfRangeException(nameof(preset)),
                };
            })
            .BuildServiceProvider();
        var strategy = services.GetRequiredKeyedService<ILockStrategy>(preset);
        Assert.Same(strategy, services.GetRequiredService<ILockStrategy>());
        var key = new LockKey("preset", id);

        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = strategy.ExecuteAsync(key, async (ctx, ct) =>
        {
            if (ctx.GetFeature<MySqlTransactionFeature>() is { } tx)
            {
                await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 1 WHERE id = @id", new { id }, tx.Transaction);
            }
            else
            {
                await using var connection = await Servers.OpenMySqlAsync(ct);
                await connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 1 WHERE id = @id", new { id });
            }

            held.SetResult();
            await release.Task.WaitAsync(ct);
            return ctx.FencingToken;
        }, TimeSpan.FromSeconds(10), Ct).AsTask();
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var ran = false;
        var second = await strategy.TryExecuteAsync(key, (_, _) =>
        {
            ran = true;
            return ValueTask.CompletedTask;
        }, TimeSpan.FromMilliseconds(300), Ct);
        Assert.False(second, $"{preset}: a second holder got the key while the first held it");
        Assert.False(ran);

        release.SetResult();
        var token = await holder;
        Assert.Equal(preset is "distributed" or "dual", token is not null);
        Assert.Equal(1, await table.ValueAsync(id));

        // Released: the next caller gets it at once.
        Assert.True(await strategy.TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromSeconds(5), Ct));
    }
}
