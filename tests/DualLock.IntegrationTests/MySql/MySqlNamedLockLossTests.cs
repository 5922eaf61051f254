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

    /// <summary>
    /// A GET_LOCK another session killed (KILL QUERY by an operator or the fault search) answers NULL: the
    /// caller gets a <see cref="LockUnavailableException"/> (was InvalidOperationException, not a lock failure
    /// for callers that map those) and the work does not run.
    /// </summary>
    [Fact]
    public async Task Acquire_WaitingGetLockKilledByAnotherSession_ThrowsUnavailableAndTheWorkDoesNotRun()
    {
        var key = new LockKey("report", $"r{Guid.NewGuid():N}");
        var name = NamedLockName.For("duallock:", key);
        var pipeline = new LockPipelineBuilder { Name = $"named-{Guid.NewGuid():N}", WaitTimeout = TimeSpan.FromSeconds(20) }
            .AddMySqlNamedLock(Servers.MySql)
            .Build();
        await using var holder = await Servers.OpenMySqlAsync(Ct);
        Assert.Equal(1, await holder.ExecuteScalarAsync<long?>("SELECT GET_LOCK(@name, 0)", new { name }));
        var ran = false;

        var call = pipeline.ExecuteAsync(key, (_, _) =>
        {
            ran = true;
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct).AsTask();
        await using var admin = await Servers.OpenMySqlAsync(Ct);
        long? waiter = null;
        for (var i = 0; i < 100 && waiter is null; i++)
        {
            waiter = await admin.ExecuteScalarAsync<long?>(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%' AND ID <> CONNECTION_ID() AND INFO LIKE CONCAT('%', @name, '%') LIMIT 1",
                new { name });
            if (waiter is null)
            {
                await Task.Delay(50, Ct);
            }
        }

        Assert.NotNull(waiter);
        await admin.ExecuteAsync($"KILL QUERY {waiter.Value}");

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal("mysql-named-lock", ex.Stage);
        Assert.Contains("GET_LOCK returned NULL", ex.Message, StringComparison.Ordinal);
        Assert.False(ran);
        await holder.ExecuteScalarAsync<long?>("SELECT RELEASE_LOCK(@name)", new { name });
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
