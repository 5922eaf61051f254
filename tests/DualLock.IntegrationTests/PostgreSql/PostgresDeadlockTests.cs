using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// Two executions lock the same key's rows in two tables in opposite orders, each holding its first row when it asks
/// for its second: a deadlock. The server aborts one (40P01) inside its row-lock stage; that one must surface as
/// LockTimeoutException carrying the server error (not a raw PostgresException), and the other must go on and commit.
/// </summary>
public sealed class PostgresDeadlockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OppositeOrder_OneIsTheDeadlockVictimAsLockTimeoutAndTheOtherCommits()
    {
        await using var first = await PostgresTestTable.CreateAsync("x");
        await using var second = await PostgresTestTable.CreateAsync("x");
        var bothHoldOne = new Barrier(2);
        var forward = Pipeline("forward", first.Name, second.Name, bothHoldOne);
        var backward = Pipeline("backward", second.Name, first.Name, bothHoldOne);
        var key = new LockKey("pair", "x");

        var outcomes = await Task.WhenAll(
            RunAsync(forward, key, first.Name, second.Name),
            RunAsync(backward, key, first.Name, second.Name)).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var victim = Assert.Single(outcomes, o => o is not null);
        var timeout = Assert.IsType<LockTimeoutException>(victim);
        Assert.Equal(PostgresErrors.DeadlockDetected, Assert.IsType<PostgresException>(timeout.InnerException).SqlState);
        Assert.Equal("second-row", timeout.Stage);

        // Only the survivor's work ran and committed; the victim's transaction was rolled back before its work.
        Assert.Equal(1, await first.ValueAsync("x"));
        Assert.Equal(1, await second.ValueAsync("x"));
    }

    private static LockPipeline Pipeline(string name, string firstTable, string secondTable, Barrier bothHoldOne)
        => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddPostgresTransaction(Servers.Postgres)
            .AddPostgresRowLock(firstTable, "id", o => o.Name = "first-row")
            .AddStage(new GateStage(bothHoldOne))
            .AddPostgresRowLock(secondTable, "id", o => o.Name = "second-row")
            .Build();

    private static Task<Exception?> RunAsync(LockPipeline pipeline, LockKey key, string tableA, string tableB)
        => Task.Run(async () =>
        {
            try
            {
                await pipeline.ExecuteAsync(key, async (ctx, _) =>
                {
                    var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
                    await tx.Connection.ExecuteAsync($"UPDATE \"{tableA}\" SET value = value + 1 WHERE id = 'x'", transaction: tx.Transaction);
                    await tx.Connection.ExecuteAsync($"UPDATE \"{tableB}\" SET value = value + 1 WHERE id = 'x'", transaction: tx.Transaction);
                }, cancellationToken: CancellationToken.None);
                return (Exception?)null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        });

    /// <summary>Between the two row locks: lets neither execution ask for its second row until both hold their first.</summary>
    private sealed class GateStage(Barrier bothHoldOne) : LockStage("gate")
    {
        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        {
            Assert.True(bothHoldOne.SignalAndWait(TimeSpan.FromSeconds(10), cancellationToken), "the other execution never locked its first row");
            return ValueTask.FromResult<LockStageHandle?>(new Handle());
        }

        private sealed class Handle : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
        }
    }
}
