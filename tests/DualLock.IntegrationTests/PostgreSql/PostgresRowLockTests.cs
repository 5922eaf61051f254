using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

public sealed class PostgresRowLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LockPipeline RowLockPipeline(string table, TimeSpan wait)
        => new LockPipelineBuilder { Name = "pg-row", WaitTimeout = wait }
            .AddPostgresTransaction(Servers.Postgres)
            .AddPostgresRowLock(table, "id")
            .Build();

    [Fact]
    public async Task ExecuteAsync_RowHeldElsewhere_TimesOutWith55P03AndHolderDataUnchanged()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        var pipeline = RowLockPipeline(table.Name, TimeSpan.FromSeconds(1));
        var key = new LockKey("counter", "a");

        await using (var holder = await Servers.OpenPostgresAsync(Ct))
        await using (var holderTx = await holder.BeginTransactionAsync(Ct))
        {
            await holder.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = 7 WHERE id = 'a'", transaction: holderTx);

            var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
                await pipeline.ExecuteAsync(key, async (ctx, ct) =>
                {
                    var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
                    await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = 99 WHERE id = 'a'", transaction: tx.Transaction);
                }, cancellationToken: Ct));

            Assert.Equal("postgres-row-lock", ex.Stage);
            Assert.Equal("55P03", Assert.IsType<PostgresException>(ex.InnerException).SqlState);
            await holderTx.CommitAsync(Ct);
        }

        // The holder's write stands; the timed-out caller's never ran.
        Assert.Equal(7, await table.ValueAsync("a"));
    }
}
