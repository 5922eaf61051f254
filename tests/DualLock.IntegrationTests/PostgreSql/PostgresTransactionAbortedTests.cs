using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// A statement of the work fails and the work catches the error and returns: PostgreSQL has aborted the whole
/// transaction, answers a COMMIT with a rollback and no error, and Npgsql reports that as committed. The stage must
/// not report a commit that did not happen.
/// </summary>
public sealed class PostgresTransactionAbortedTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LockPipeline TransactionOnly()
        => new LockPipelineBuilder { Name = "pg-aborted", WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddPostgresTransaction(Servers.Postgres)
            .Build();

    [Fact]
    public async Task Commit_WorkCaughtAFailedStatement_ThrowsAbortedAndTheEarlierWriteIsNotStored()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        var caught = false;

        var ex = await Assert.ThrowsAsync<PostgresTransactionAbortedException>(async () =>
            await TransactionOnly().ExecuteAsync(new LockKey("doc", "doc"), async (ctx, _) =>
            {
                var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
                await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET note = 'written' WHERE id = 'doc'", transaction: tx.Transaction);
                try
                {
                    await table.InsertAsync(tx.Connection, "doc", tx.Transaction); // the id exists: 23505
                }
                catch (PostgresException pg) when (pg.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    caught = true; // swallowed, as careless work does
                }
            }, cancellationToken: Ct));

        Assert.True(caught, "the duplicate insert did not fail, so the transaction was never aborted");
        Assert.Equal("postgres-transaction", ex.Stage);
        Assert.Equal(PostgresErrorCodes.InFailedSqlTransaction, Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.Null(await table.NoteAsync("doc"));
    }

    /// <summary>
    /// Negative control of the mechanism: on a transaction aborted the same way, Npgsql's own commit returns without
    /// an error and the write is gone. A stage that only called CommitAsync would report this as a success.
    /// </summary>
    [Fact]
    public async Task NpgsqlCommit_OnAnAbortedTransaction_ReturnsWithoutErrorAndKeepsNothing()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");
        await using var connection = await Servers.OpenPostgresAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET note = 'written' WHERE id = 'doc'", transaction: transaction);
        await Assert.ThrowsAsync<PostgresException>(() => table.InsertAsync(connection, "doc", transaction));

        await transaction.CommitAsync(Ct); // no exception: the silent rollback the stage guards against

        Assert.Null(await table.NoteAsync("doc"));
    }

    /// <summary>The way out the exception's message recommends: a savepoint around the statement that may fail keeps the transaction usable.</summary>
    [Fact]
    public async Task Commit_FailedStatementInsideASavepoint_CommitsTheOtherWrites()
    {
        await using var table = await PostgresTestTable.CreateAsync("doc");

        await TransactionOnly().ExecuteAsync(new LockKey("doc", "doc"), async (ctx, ct) =>
        {
            var tx = ctx.GetRequiredFeature<PostgresTransactionFeature>();
            await tx.Connection.ExecuteAsync($"UPDATE \"{table.Name}\" SET note = 'written' WHERE id = 'doc'", transaction: tx.Transaction);
            await tx.Transaction.SaveAsync("maybe_duplicate", ct);
            try
            {
                await table.InsertAsync(tx.Connection, "doc", tx.Transaction);
            }
            catch (PostgresException pg) when (pg.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await tx.Transaction.RollbackAsync("maybe_duplicate", ct);
            }
        }, cancellationToken: Ct);

        Assert.Equal("written", await table.NoteAsync("doc"));
    }
}
