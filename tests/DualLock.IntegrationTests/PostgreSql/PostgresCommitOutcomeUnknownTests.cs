using Dapper;
using DualLock.PostgreSql;
using DualLock.Redis;
using Npgsql;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// A commit whose connection breaks before the server's answer arrives has an unknown outcome: the server may have
/// committed. The caller must be told exactly that (<see cref="LockCommitOutcomeUnknownException"/>), never a bare
/// Npgsql error that most callers read as "nothing was changed" and retry, charging twice.
/// </summary>
public sealed class PostgresCommitOutcomeUnknownTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_ConnectionCutAfterTheServerCommitted_ThrowsOutcomeUnknownAndTheWriteIsThere()
    {
        await using var table = await PostgresTestTable.CreateAsync("a");
        await using var proxy = NewProxy();
        proxy.CutAfterCommit = true;
        var key = NewKey();
        var pipeline = new LockPipelineBuilder { Name = "pg-commit-cut", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(await Servers.SharedRedisAsync(), new RedisLockOptions { Lease = TimeSpan.FromSeconds(5) })
            .AddPostgresTransaction(ThroughProxy(proxy))
            .Build();

        var ex = await Assert.ThrowsAsync<LockCommitOutcomeUnknownException>(async () => await pipeline.ExecuteAsync(key, (ctx, ct) => ChargeAsync(ctx, table, ct), cancellationToken: Ct));

        // The server committed; only the answer was lost. The exception says so, keeps Npgsql's error, and the outer
        // Redis lock was still released (not left for its lease to end).
        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(5, await table.ValueAsync("a"));
        Assert.Equal("postgres-transaction", ex.Stage);
        Assert.Contains("may or may not", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.False(await (await Servers.SharedRedisAsync()).GetDatabase().KeyExistsAsync(LockName(key)), "The Redis lock was not released after the commit failed.");
    }

    [Fact]
    public async Task ExecuteAsync_ThroughTheSameProxyWithoutACut_Commits()
    {
        // Negative control: the proxy itself breaks nothing. It saw the stage's COMMIT (the statement the cut waits
        // for), let it through, and the call succeeded.
        await using var table = await PostgresTestTable.CreateAsync("a");
        await using var proxy = NewProxy();
        var key = NewKey();
        var pipeline = new LockPipelineBuilder { Name = "pg-commit-proxied", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddRedisLock(await Servers.SharedRedisAsync(), new RedisLockOptions { Lease = TimeSpan.FromSeconds(5) })
            .AddPostgresTransaction(ThroughProxy(proxy))
            .Build();

        var result = await pipeline.ExecuteAsync(key, (ctx, ct) => ChargeAsync(ctx, table, ct), cancellationToken: Ct);

        TestContext.Current.TestOutputHelper?.WriteLine("statements seen: " + string.Join(" | ", proxy.Queries));
        Assert.Equal("charged", result);
        Assert.Equal(5, await table.ValueAsync("a"));
        Assert.Contains(proxy.Queries, PostgresCommitCutProxy.IsCommit);
        Assert.Equal(0, proxy.Cuts);
        Assert.False(await (await Servers.SharedRedisAsync()).GetDatabase().KeyExistsAsync(LockName(key)));
    }

    [Fact]
    public async Task ExecuteAsync_ServerTerminatesTheSessionDuringTheWork_ThrowsOutcomeUnknownAndNothingIsStored()
    {
        // pg_terminate_backend while the work runs: the commit meets a dead session (57P01 or a broken socket). The
        // stage cannot tell this apart from a commit whose answer was lost (here the server rolled back), so it says
        // the outcome is unknown, not "not applied". LockUnavailableException is only for a failure before the work.
        await using var table = await PostgresTestTable.CreateAsync("a");
        var pipeline = new LockPipelineBuilder { Name = "pg-commit-terminated", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddPostgresTransaction(Servers.Postgres)
            .Build();

        var ex = await Assert.ThrowsAsync<LockCommitOutcomeUnknownException>(async () => await pipeline.ExecuteAsync(NewKey(), async (ctx, ct) =>
        {
            var charged = await ChargeAsync(ctx, table, ct);
            await TerminateOwnSessionAsync(ctx, ct);
            return charged;
        }, cancellationToken: Ct));

        Assert.Equal(0, await table.ValueAsync("a"));
        Assert.Equal("postgres-transaction", ex.Stage);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrowsAfterTheSessionWasTerminated_ThrowsTheWorksErrorNotOutcomeUnknown()
    {
        // Negative control: nothing was committed when the work itself failed (the rollback is all that runs), so the
        // outcome is known and the caller gets the work's own exception.
        await using var table = await PostgresTestTable.CreateAsync("a");
        var pipeline = new LockPipelineBuilder { Name = "pg-work-failed", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddPostgresTransaction(Servers.Postgres)
            .Build();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(NewKey(), async (ctx, ct) =>
        {
            await ChargeAsync(ctx, table, ct);
            await TerminateOwnSessionAsync(ctx, ct);
            throw new InvalidOperationException("the work's own failure");
        }, cancellationToken: Ct));

        Assert.Equal(0, await table.ValueAsync("a"));
    }

    private static async ValueTask<string> ChargeAsync(LockContext ctx, PostgresTestTable table, CancellationToken ct)
    {
        var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
        await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE \"{table.Name}\" SET value = value + 5 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
        return "charged";
    }

    /// <summary>Ends the work's session from a side connection and waits until its backend is gone.</summary>
    private static async Task TerminateOwnSessionAsync(LockContext ctx, CancellationToken ct)
    {
        var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
        var pid = await tx.Connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT pg_backend_pid()", transaction: tx.Transaction, cancellationToken: ct));
        await using var killer = await Servers.OpenPostgresAsync(ct);
        var terminated = await killer.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_terminate_backend(@pid, 5000)", new { pid }, cancellationToken: ct));
        Assert.True(terminated, $"backend {pid} was not terminated within 5 s");
    }

    private static PostgresCommitCutProxy NewProxy()
    {
        var real = new NpgsqlConnectionStringBuilder(Servers.Postgres);
        return new PostgresCommitCutProxy(real.Host!, real.Port);
    }

    /// <summary>Unpooled, so every execution is a fresh connection through the proxy; unencrypted, so the proxy can read the messages.</summary>
    private static string ThroughProxy(PostgresCommitCutProxy proxy) => new NpgsqlConnectionStringBuilder(Servers.Postgres)
    {
        Host = "127.0.0.1",
        Port = proxy.Port,
        Pooling = false,
        SslMode = SslMode.Disable,
        Multiplexing = false,
    }.ConnectionString;
}
