using System.Data;
using Dapper;
using DualLock.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// 40001 (serialization failure) is a conflict the optimistic strategy re-runs: under REPEATABLE READ, PostgreSQL
/// refuses an UPDATE of a row that another transaction changed since this one's snapshot, so a plain read-modify-write
/// with no version column loses nothing. The control: the same work under READ COMMITTED loses increments (the
/// isolation level, not luck, is what refused them), and with one attempt the refusals surface as LockConflictException
/// carrying the 40001.
/// </summary>
public sealed class PostgresSerializationFailureTests
{
    private const int Writers = 6;
    private const int IncrementsPerWriter = 8;

    [Fact]
    public async Task RepeatableRead_ConcurrentReadModifyWrite_SerializationFailuresAreReRunAndNothingIsLost()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(IsolationLevel.RepeatableRead, maxAttempts: 1_000);

        var (succeeded, failures, attempts) = await IncrementConcurrentlyAsync(services, table.Name);

        Assert.Empty(failures);
        Assert.Equal(Writers * IncrementsPerWriter, succeeded);
        Assert.Equal(Writers * IncrementsPerWriter, await table.ValueAsync("a"));
        Assert.True(attempts > succeeded, "No attempt was re-run: the writers never collided, so 40001 was not exercised.");
    }

    [Fact]
    public async Task RepeatableRead_OneAttempt_SerializationFailureSurfacesAsConflictWith40001()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(IsolationLevel.RepeatableRead, maxAttempts: 1);

        var (succeeded, failures, _) = await IncrementConcurrentlyAsync(services, table.Name);

        Assert.NotEmpty(failures);
        Assert.All(failures, f =>
        {
            var conflict = Assert.IsType<LockConflictException>(f);
            Assert.Equal("40001", Assert.IsType<PostgresException>(InnermostPostgres(conflict)).SqlState);
        });
        Assert.Equal(succeeded, await table.ValueAsync("a"));
    }

    /// <summary>Negative control: READ COMMITTED lets the second UPDATE overwrite the first (no 40001), so increments are lost.</summary>
    [Fact]
    public async Task ReadCommitted_ConcurrentReadModifyWrite_LosesIncrements()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        using var services = Optimistic(IsolationLevel.ReadCommitted, maxAttempts: 1_000);

        var (succeeded, failures, _) = await IncrementConcurrentlyAsync(services, table.Name);

        Assert.Empty(failures);
        Assert.Equal(Writers * IncrementsPerWriter, succeeded);
        Assert.True(await table.ValueAsync("a") < Writers * IncrementsPerWriter, "READ COMMITTED lost nothing: the gap is too small for the control to prove anything.");
    }

    private static Exception? InnermostPostgres(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException)
            {
                return e;
            }
        }

        return null;
    }

    private static ServiceProvider Optimistic(IsolationLevel isolation, int maxAttempts)
    {
        var services = new ServiceCollection();
        services.AddDualLock().AddPostgresOptimisticStrategy("optimistic", o =>
        {
            o.ConnectionString = Servers.Postgres;
            o.IsolationLevel = isolation;
            o.MaxAttempts = maxAttempts;
            o.RetryDelay = TimeSpan.FromMilliseconds(1);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Each writer: read the value, pause, write value + 1 (no version check): only the isolation level can refuse it.</summary>
    private static async Task<(int Succeeded, List<Exception> Failures, int Attempts)> IncrementConcurrentlyAsync(ServiceProvider services, string table)
    {
        var strategy = services.GetRequiredKeyedService<ILockStrategy>("optimistic");
        var succeeded = 0;
        var attempts = 0;
        var failures = new List<Exception>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async _ =>
        {
            for (var i = 0; i < IncrementsPerWriter; i++)
            {
                try
                {
                    await strategy.ExecuteAsync(new LockKey("counter", "a"), async (context, ct) =>
                    {
                        Interlocked.Increment(ref attempts);
                        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
                        var value = await tx.Connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT value FROM \"{table}\" WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
                        await Task.Delay(3, ct);
                        await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE \"{table}\" SET value = @value WHERE id = 'a'", new { value = value + 1 }, tx.Transaction, cancellationToken: ct));
                    }, cancellationToken: TestContext.Current.CancellationToken);
                    Interlocked.Increment(ref succeeded);
                }
                catch (LockConflictException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }
                }
            }
        }));
        return (succeeded, failures, attempts);
    }
}
