using System.Diagnostics.Metrics;
using Dapper;
using DualLock.MySql;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A named lock lives as long as its session: when the session drops the server frees the lock and
/// another holder can take it. The transaction inside must then not commit, and the loss must be told.
/// </summary>
public sealed class MySqlNamedLockLossTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commit_NamedLockSessionKilledAndLockTakenByAnother_IsRefusedAndWriteIsNotVisible()
    {
        await using var table = await MySqlTestTable.CreateAsync("doc");
        var key = new LockKey("report", $"r{Guid.NewGuid():N}");
        var name = NamedLockName.For("duallock:", key);
        var pipeline = new LockPipelineBuilder { Name = $"named-{Guid.NewGuid():N}" }
            .AddMySqlNamedLock(Servers.MySql)
            .AddMySqlTransaction(Servers.MySql)
            .Build();
        await using var second = await Servers.OpenMySqlAsync(Ct);

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await pipeline.ExecuteAsync(key, async (ctx, _) =>
            {
                await KillHolderSessionAsync(name);
                Assert.Equal(1, await second.ExecuteScalarAsync<long?>("SELECT GET_LOCK(@name, 10)", new { name })); // the second holder is in
                var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
                await tx.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET note = 'first' WHERE id = 'doc'", transaction: tx.Transaction);
            }, cancellationToken: Ct));

        Assert.Equal("mysql-named-lock", ex.Stage);
        Assert.Null(await table.NoteAsync("doc"));
        await second.ExecuteScalarAsync<long?>("SELECT RELEASE_LOCK(@name)", new { name });
    }

    [Fact]
    public async Task Release_LockAlreadyLost_IsCountedAsLost()
    {
        var key = new LockKey("report", $"r{Guid.NewGuid():N}");
        var name = NamedLockName.For("duallock:", key);
        var pipelineName = $"named-{Guid.NewGuid():N}";
        var pipeline = new LockPipelineBuilder { Name = pipelineName }.AddMySqlNamedLock(Servers.MySql).Build();
        var lost = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "DualLock" && instrument.Name == "duallock.mysql.named_lock.lost")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "duallock.pipeline" && Equals(tag.Value, pipelineName))
                {
                    Interlocked.Add(ref lost, value);
                }
            }
        });
        listener.Start();

        await pipeline.ExecuteAsync(key, async (_, _) => await KillHolderSessionAsync(name), cancellationToken: Ct);

        Assert.Equal(1, Interlocked.Read(ref lost));
    }

    /// <summary>Kills the session that holds the named lock, as a network drop or a server-side timeout would end it.</summary>
    private static async Task KillHolderSessionAsync(string name)
    {
        await using var admin = await Servers.OpenMySqlAsync(Ct);
        var holder = await admin.ExecuteScalarAsync<long?>("SELECT IS_USED_LOCK(@name)", new { name });
        Assert.NotNull(holder);
        await admin.ExecuteAsync($"KILL CONNECTION {holder.Value}");
    }
}
