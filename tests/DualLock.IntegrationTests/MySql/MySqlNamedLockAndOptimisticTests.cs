using Dapper;
using DualLock.MySql;

namespace DualLock.IntegrationTests.MySql;

public sealed class MySqlNamedLockAndOptimisticTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NamedLock_HeldByAnotherSession_TimesOutWithinTheWait()
    {
        var key = new LockKey("report", $"r{Guid.NewGuid():N}");
        var pipeline = new LockPipelineBuilder { Name = "named", WaitTimeout = TimeSpan.FromMilliseconds(300) }
            .AddMySqlNamedLock(Servers.MySql)
            .Build();
        await using var holder = await Servers.OpenMySqlAsync(Ct);
        Assert.Equal(1, await holder.ExecuteScalarAsync<int>("SELECT GET_LOCK(@name, 0)", new { name = NamedLockName.For("duallock:", key) }));

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Equal("mysql-named-lock", ex.Stage);
        await holder.ExecuteScalarAsync<int>("SELECT RELEASE_LOCK(@name)", new { name = NamedLockName.For("duallock:", key) });
        await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct); // free again: acquired at once
    }

    [Fact]
    public void NamedLock_InsideTransactionStage_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "wrong-order" }
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlNamedLock(Servers.MySql);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("Add it before the transaction stage", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Optimistic_EveryAttemptConflicts_ThrowsConflictAndCommitsNothing()
    {
        await using var table = await MySqlTestTable.CreateAsync("a");
        var executor = new MySqlOptimisticExecutor(new MySqlOptimisticOptions { ConnectionString = Servers.MySql, MaxAttempts = 3 });
        var attempts = 0;

        var ex = await Assert.ThrowsAsync<MySqlOptimisticConflictException>(async () =>
            await executor.ExecuteAsync(new LockKey("counter", "a"), async (attempt, ct) =>
            {
                attempts++;
                await attempt.Connection.ExecuteAsync($"UPDATE `{table.Name}` SET value = value + 1 WHERE id = 'a'", transaction: attempt.Transaction);

                // A version that never matches: as if another writer always won the race.
                return await attempt.CompareAndSetAsync($"UPDATE `{table.Name}` SET version = version + 1 WHERE id = 'a' AND version = -1", (object?)null, ct);
            }, Ct));

        Assert.Equal(3, ex.Attempts);
        Assert.Equal(3, attempts);
        Assert.Equal(0, await table.ValueAsync("a"));
    }
}
