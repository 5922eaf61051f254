using Dapper;
using DualLock.MySql;
using Microsoft.Extensions.Time.Testing;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>A MariaDB of this class's own, started with <c>innodb_rollback_on_timeout=ON</c>.</summary>
public sealed class RollbackOnTimeoutServer : IAsyncLifetime
{
    public PrivateMariaDbServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await PrivateMariaDbServer.StartAsync("--innodb-rollback-on-timeout=ON");

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>
/// With <c>innodb_rollback_on_timeout=ON</c> a lock-wait error (1205, which is also how MariaDB reports a
/// NOWAIT miss) rolls back the whole transaction, not the statement. A NoWaitRetry that then retries runs
/// in autocommit: its "lock" ends with the statement and the work runs unprotected.
/// </summary>
public sealed class MySqlRollbackOnTimeoutTests(RollbackOnTimeoutServer fixture) : IClassFixture<RollbackOnTimeoutServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoWaitRetry_RollbackOnTimeoutOn_FailsAsTimeoutInsteadOfRetryingWithoutTheTransaction()
    {
        var outcome = await RunRetryAfterMissAsync(fixture.Server.ConnectionString, expectOption: true);

        Assert.False(outcome.WorkRan, $"the work ran after the retry (in a transaction: {outcome.InTransaction}, row still locked: {outcome.RowLocked})");
        Assert.IsType<LockTimeoutException>(outcome.Failure);
    }

    /// <summary>Negative control on the shared server (the default, OFF): the retry keeps its transaction and the lock.</summary>
    [Fact]
    public async Task NoWaitRetry_RollbackOnTimeoutOff_RetriesAndHoldsTheLockInTheTransaction()
    {
        var outcome = await RunRetryAfterMissAsync(Servers.MySql, expectOption: false);

        Assert.Null(outcome.Failure);
        Assert.True(outcome.WorkRan);
        Assert.True(outcome.InTransaction);
        Assert.True(outcome.RowLocked);
    }

    private static async Task<Outcome> RunRetryAfterMissAsync(string connectionString, bool expectOption)
    {
        var table = $"duallock_t_{Guid.NewGuid():N}"[..30];
        await using var holder = new MySqlConnection(connectionString);
        await holder.OpenAsync(Ct);
        Assert.Equal(expectOption, await holder.ExecuteScalarAsync<bool>("SELECT @@innodb_rollback_on_timeout"));
        await holder.ExecuteAsync($"CREATE TABLE `{table}` (id VARCHAR(64) NOT NULL PRIMARY KEY) ENGINE=InnoDB; INSERT INTO `{table}` VALUES ('r')");
        try
        {
            var time = new BackoffSignallingTimeProvider();
            var pipeline = new LockPipelineBuilder { Name = "rollback-on-timeout", TimeProvider = time, WaitTimeout = TimeSpan.FromSeconds(30) }
                .AddMySqlTransaction(connectionString)
                .AddMySqlRowLock(table, "id", o =>
                {
                    o.WaitMode = MySqlRowLockWaitMode.NoWaitRetry;
                    o.RetryDelay = TimeSpan.FromMilliseconds(50);
                    o.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
                })
                .Build();
            var holding = await holder.BeginTransactionAsync(Ct);
            await holder.ExecuteAsync($"SELECT 1 FROM `{table}` WHERE id = 'r' FOR UPDATE", transaction: holding);

            var outcome = new Outcome();
            var run = Task.Run(async () =>
            {
                try
                {
                    await pipeline.ExecuteAsync(new LockKey("row", "r"), async (ctx, _) =>
                    {
                        outcome.WorkRan = true;
                        var tx = ctx.GetRequiredFeature<MySqlTransactionFeature>();
                        outcome.InTransaction = await tx.Connection.ExecuteScalarAsync<bool>("SELECT @@in_transaction", transaction: tx.Transaction);
                        outcome.RowLocked = await IsRowLockedAsync(connectionString, table);
                    }, cancellationToken: CancellationToken.None);
                }
                catch (LockException ex)
                {
                    outcome.Failure = ex;
                }
            });

            // The first NOWAIT missed: either the stage is in its backoff (a retry is coming) or it gave up.
            await Task.WhenAny(time.BackoffStarted, run).WaitAsync(TimeSpan.FromSeconds(20), Ct);
            await holding.CommitAsync(Ct); // the row is free for the retry
            time.Advance(TimeSpan.FromSeconds(1));
            await run.WaitAsync(TimeSpan.FromSeconds(20), Ct);
            return outcome;
        }
        finally
        {
            await holder.ExecuteAsync($"DROP TABLE IF EXISTS `{table}`");
        }
    }

    private static async Task<bool> IsRowLockedAsync(string connectionString, string table)
    {
        await using var probe = new MySqlConnection(connectionString);
        await probe.OpenAsync(Ct);
        await using var tx = await probe.BeginTransactionAsync(Ct);
        try
        {
            await probe.ExecuteAsync($"SELECT 1 FROM `{table}` WHERE id = 'r' FOR UPDATE NOWAIT", transaction: tx);
            return false;
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.LockWaitTimeout || (int)ex.ErrorCode == 3572)
        {
            return true;
        }
    }

    private sealed class Outcome
    {
        public bool WorkRan { get; set; }

        public bool InTransaction { get; set; }

        public bool RowLocked { get; set; }

        public LockException? Failure { get; set; }
    }

    /// <summary>Frozen time that reports when the row lock stage starts a backoff pause (a short timer), so the test knows a NOWAIT missed.</summary>
    private sealed class BackoffSignallingTimeProvider() : FakeTimeProvider(DateTimeOffset.UtcNow)
    {
        private readonly TaskCompletionSource _backoffStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task BackoffStarted => _backoffStarted.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime > TimeSpan.Zero && dueTime <= TimeSpan.FromSeconds(1))
            {
                _backoffStarted.TrySetResult();
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
