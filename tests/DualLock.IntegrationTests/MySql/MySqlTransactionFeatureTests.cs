using Dapper;
using DualLock.MySql;
using DualLock.Testing;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Work written for a pipeline (it takes the context and finds its transaction there) runs in a unit test over a
/// connection and transaction the test opened: the test, not a stage, decides commit or rollback.
/// </summary>
public sealed class MySqlTransactionFeatureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Feature_OverTheTestsTransaction_WorkWritesInItAndTheTestRollsBack()
    {
        var id = $"f{Guid.NewGuid():N}"[..20];
        await using var table = await MySqlTestTable.CreateAsync(id);
        await using var connection = await Servers.OpenMySqlAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var context = new LockContextBuilder(new LockKey("counter", id))
            .WithFeature(new MySqlTransactionFeature(connection, transaction))
            .Build();

        var changed = await AddAsync(context, table.Name, id, 5);
        var inside = await connection.ExecuteScalarAsync<long>($"SELECT value FROM `{table.Name}` WHERE id = @id", new { id }, transaction);
        await transaction.RollbackAsync(Ct);

        Assert.Equal(1, changed);
        Assert.Equal(5, inside);
        Assert.Equal(0, await table.ValueAsync(id));
    }

    [Fact]
    public async Task Feature_TransactionOfAnotherConnection_Refused()
    {
        await using var first = await Servers.OpenMySqlAsync(Ct);
        await using var second = await Servers.OpenMySqlAsync(Ct);
        await using var transaction = await second.BeginTransactionAsync(Ct);

        var ex = Assert.Throws<ArgumentException>(() => new MySqlTransactionFeature(first, transaction));
        Assert.Equal("transaction", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => new MySqlTransactionFeature(second, null!));
    }

    [Fact]
    public async Task Feature_EndedTransaction_Refused()
    {
        await using var connection = await Servers.OpenMySqlAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await transaction.CommitAsync(Ct);

        Assert.Throws<ArgumentException>(() => new MySqlTransactionFeature(connection, transaction));
    }

    // What an application writes: work that only knows the context.
    private static Task<int> AddAsync(LockContext context, string table, string id, long amount)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        return tx.Connection.ExecuteAsync($"UPDATE `{table}` SET value = value + @amount WHERE id = @id", new { amount, id }, tx.Transaction);
    }
}
