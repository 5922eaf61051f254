using Dapper;
using DualLock.PostgreSql;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// The optimistic preset (AddPostgresOptimisticStrategy): no lock, a transaction per attempt, a compare-and-set on a
/// version column, and a re-run when it loses. Concurrent increments all land with re-runs; with one attempt the
/// collisions surface as LockConflictException and the stored count still matches the successes.
/// </summary>
public sealed class PostgresOptimisticTests
{
    private const int Writers = 8;
    private const int IncrementsPerWriter = 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentIncrements_ReRunsLostCompareAndSetsAndLosesNothing()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(maxAttempts: 1_000);

        var (succeeded, failed, reran) = await IncrementConcurrentlyAsync(services.GetRequiredKeyedService<ILockStrategy>("optimistic"), table.Name);

        Assert.Equal(0, failed);
        Assert.Equal(Writers * IncrementsPerWriter, succeeded);
        Assert.Equal(Writers * IncrementsPerWriter, await table.ValueAsync("a"));
        Assert.True(reran > 0, "The writers never collided, so the re-run was not exercised; widen the gap.");
    }

    /// <summary>Negative control: one attempt each. The compare-and-set still loses nothing, but collisions now fail instead of re-running.</summary>
    [Fact]
    public async Task ConcurrentIncrements_OneAttempt_ConflictsSurfaceAndStoredCountMatchesSuccesses()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(maxAttempts: 1);

        var (succeeded, failed, _) = await IncrementConcurrentlyAsync(services.GetRequiredKeyedService<ILockStrategy>("optimistic"), table.Name);

        Assert.True(failed > 0, "No increment conflicted: the concurrency is too low for this test to prove the re-run matters.");
        Assert.Equal(Writers * IncrementsPerWriter, succeeded + failed);
        Assert.Equal(succeeded, await table.ValueAsync("a"));
        Assert.Equal(succeeded, await VersionAsync(table.Name));
    }

    [Fact]
    public async Task EveryAttemptConflicts_ThrowsConflictAfterMaxAttemptsAndCommitsNothing()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(maxAttempts: 3);
        var attempts = new List<int>();

        var ex = await Assert.ThrowsAsync<LockConflictException>(async () =>
            await services.GetRequiredKeyedService<ILockStrategy>("optimistic").ExecuteAsync(new LockKey("counter", "a"), async (context, ct) =>
            {
                attempts.Add(context.Attempt);
                var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
                await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET value = value + 1 WHERE id = 'a'", transaction: tx.Transaction);

                // A version that never matches: as if another writer always won the race.
                await CompareAndSetAsync(tx, $"UPDATE \"{table.Name}\" SET version = version + 1 WHERE id = 'a' AND version = -1", null);
            }, cancellationToken: Ct));

        Assert.Equal(3, ex.Attempts);
        Assert.IsType<OptimisticConflictException>(ex.InnerException);
        Assert.Equal([1, 2, 3], attempts);
        Assert.Equal(0, await table.ValueAsync("a"));
    }

    private static ServiceProvider Optimistic(int maxAttempts)
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddPostgresOptimisticStrategy("optimistic", o =>
        {
            o.ConnectionString = Servers.Postgres;
            o.MaxAttempts = maxAttempts;
            o.RetryDelay = TimeSpan.FromMilliseconds(1);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Read, wait (so writers overlap), then compare-and-set the version read: the optimistic work.</summary>
    private static async Task<(int Succeeded, int Failed, int Reran)> IncrementConcurrentlyAsync(ILockStrategy strategy, string table)
    {
        var succeeded = 0;
        var failed = 0;
        var reran = 0;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < IncrementsPerWriter; i++)
            {
                try
                {
                    var attempt = await strategy.ExecuteAsync(new LockKey("counter", "a"), table, static async (context, table, ct) =>
                    {
                        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
                        var row = await tx.Connection.QuerySingleAsync<(long Value, long Version)>(
                            $"SELECT value, version FROM \"{table}\" WHERE id = 'a'", transaction: tx.Transaction);
                        await Task.Delay(2, ct);
                        await CompareAndSetAsync(tx, $"UPDATE \"{table}\" SET value = @value, version = version + 1 WHERE id = 'a' AND version = @version", new { value = row.Value + 1, version = row.Version });
                        return context.Attempt;
                    }, cancellationToken: Ct);
                    Interlocked.Increment(ref succeeded);
                    if (attempt > 1)
                    {
                        Interlocked.Increment(ref reran);
                    }
                }
                catch (LockConflictException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }, Ct)));
        return (succeeded, failed, reran);
    }

    private static async Task CompareAndSetAsync(PostgresTransactionFeature tx, string sql, object? parameters)
    {
        if (await tx.Connection.ExecuteAsync(sql, parameters, tx.Transaction) == 0)
        {
            throw new OptimisticConflictException();
        }
    }

    private static async Task<long> VersionAsync(string table)
    {
        await using var connection = await Servers.OpenPostgresAsync(Ct);
        return await connection.ExecuteScalarAsync<long>($"SELECT version FROM \"{table}\" WHERE id = 'a'");
    }
}
