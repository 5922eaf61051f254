using System.Diagnostics;
using Dapper;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Every part of a MySQL acquire is bounded by what is left of the pipeline's wait: the pool wait for
/// a connection, BEGIN, the row lock's server wait (whole seconds in the server) and GET_LOCK. The
/// bounds asserted here are behaviour (a 150 ms wait must not become the server's 1 s minimum, a 200 ms
/// wait must not become the 5 s Connection Timeout), with generous slack for a busy machine.
/// </summary>
public sealed class MySqlWaitBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RowLock_WaitShorterThanASecond_TimesOutWithinTheWaitNotTheServersWholeSecond()
    {
        await using var table = await MySqlTestTable.CreateAsync("r");
        await using var holder = await Servers.OpenMySqlAsync(Ct);
        await using var holding = await holder.BeginTransactionAsync(Ct);
        await holder.ExecuteAsync($"SELECT 1 FROM `{table.Name}` WHERE id = 'r' FOR UPDATE", transaction: holding);
        var pipeline = new LockPipelineBuilder { Name = "budget-row", WaitTimeout = TimeSpan.FromMilliseconds(150) }
            .AddMySqlTransaction(Servers.MySql)
            .AddMySqlRowLock(table.Name, "id")
            .Build();
        var workRan = false;

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await pipeline.ExecuteAsync(new LockKey("row", "r"), (_, _) =>
            {
                workRan = true;
                return ValueTask.CompletedTask;
            }, cancellationToken: Ct));
        clock.Stop();

        Assert.False(workRan);
        Assert.Equal("mysql-row-lock", ex.Stage);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(700), $"a 150 ms wait ended after {clock.Elapsed.TotalMilliseconds:0} ms");

        // The interrupted wait left the pool healthy: once the row is free the same pipeline locks it.
        await holding.RollbackAsync(Ct);
        Assert.True(await pipeline.TryExecuteAsync(new LockKey("row", "r"), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
    }

    [Theory]
    [InlineData("transaction")]
    [InlineData("named-lock")]
    public async Task Open_PoolExhausted_TimesOutWithinTheWaitNotTheConnectionTimeout(string stage)
    {
        // A pool of its own (the connection string differs), at most one connection, which the test takes.
        var connectionString = new MySqlConnectionStringBuilder(Servers.MySql)
        {
            MaximumPoolSize = 1,
            ConnectionTimeout = 5,
            ApplicationName = $"budget-{Guid.NewGuid():N}",
        }.ConnectionString;
        await using var taken = new MySqlConnection(connectionString);
        await taken.OpenAsync(Ct);
        var builder = new LockPipelineBuilder { Name = "budget-pool", WaitTimeout = TimeSpan.FromMilliseconds(200) };
        var pipeline = (stage == "transaction" ? builder.AddMySqlTransaction(connectionString) : builder.AddMySqlNamedLock(connectionString)).Build();

        var clock = Stopwatch.StartNew();
        var attempt = await Record.ExceptionAsync(async () =>
            await pipeline.ExecuteAsync(new LockKey("pool", Guid.NewGuid().ToString("N")), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
        clock.Stop();

        Assert.IsType<LockTimeoutException>(attempt);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(2500), $"a 200 ms wait for a pooled connection ended after {clock.Elapsed.TotalMilliseconds:0} ms");

        // Once the connection is back in the pool the same pipeline acquires.
        await taken.CloseAsync();
        Assert.True(await pipeline.TryExecuteAsync(new LockKey("pool", "again"), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
    }
}
