using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// PostgreSQL crashed and came back while the pool kept its connections: the pooled connection the next execution gets
/// is dead, though the server answers again. The pessimistic pipeline's first statement (the row lock, before the
/// work) meets the dead socket: the caller must get <see cref="LockUnavailableException"/> (nobody holds the lock, the
/// work did not run, a retry is safe), and the pool must not keep handing out dead connections.
/// </summary>
public sealed class PostgresServerRestartTests
{
    /// <summary>A port of this test's own server; the shared one is on 15432.</summary>
    private const int PrivatePort = 25533;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_AfterTheServerWasKilledAndRestarted_StalePooledConnectionIsUnavailableBeforeTheWorkThenRecovers()
    {
        await using var server = await PrivatePostgresServer.StartAsync(PrivatePort);
        var table = $"duallock_t_{Guid.NewGuid():N}"[..30];
        await using (var setup = new NpgsqlConnection(server.SideConnectionString))
        {
            await setup.ExecuteAsync($"CREATE TABLE \"{table}\" (id text PRIMARY KEY, value bigint NOT NULL DEFAULT 0); INSERT INTO \"{table}\" (id) VALUES ('a')");
        }

        var pipeline = new LockPipelineBuilder { Name = "pg-restart", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddPostgresTransaction(server.ConnectionString)
            .AddPostgresRowLock(table, "id")
            .Build();
        var key = new LockKey("counter", "a");

        // The pool now holds the connection of this execution.
        await pipeline.ExecuteAsync(key, (ctx, ct) => AddAsync(ctx, table, ct), cancellationToken: Ct);
        Assert.Equal(1, await ValueAsync(server, table));

        await server.KillAndRestartAsync();

        var workRan = false;
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.ExecuteAsync(key, (ctx, ct) =>
        {
            workRan = true;
            return AddAsync(ctx, table, ct);
        }, cancellationToken: Ct));

        Assert.False(workRan, "The work ran on a connection the lock stage should have found dead.");
        Assert.Equal("postgres-row-lock", ex.Stage);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.Equal(1, await ValueAsync(server, table));

        // The dead connection was dropped from the pool: the next execution opens a new one and commits.
        await pipeline.ExecuteAsync(key, (ctx, ct) => AddAsync(ctx, table, ct), cancellationToken: Ct);
        Assert.Equal(2, await ValueAsync(server, table));
    }

    private static async ValueTask AddAsync(LockContext ctx, string table, CancellationToken ct)
    {
        var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
        await tx.Connection.ExecuteAsync(new CommandDefinition($"UPDATE \"{table}\" SET value = value + 1 WHERE id = 'a'", transaction: tx.Transaction, cancellationToken: ct));
    }

    private static async Task<long> ValueAsync(PrivatePostgresServer server, string table)
    {
        await using var connection = new NpgsqlConnection(server.SideConnectionString);
        return await connection.ExecuteScalarAsync<long>($"SELECT value FROM \"{table}\" WHERE id = 'a'");
    }
}
