using Dapper;
using DualLock.MySql;
using MySqlConnector;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>
/// One charge (read the balance, add one, write it back) on one row, done every way DualLock
/// offers, plus the single atomic UPDATE that is the physical limit of this workload.
/// </summary>
internal sealed class MySqlCharges : IAsyncDisposable
{
    public const string Database = "duallock_bench";
    private const string Read = "SELECT amount FROM bench_points WHERE user_id = @id";
    private const string Write = "UPDATE bench_points SET amount = @amount WHERE user_id = @id";

    private readonly LockKey _key;
    private readonly LockPipeline _rowLock;
    private readonly LockPipeline _named;
    private readonly LockPipeline _dual;
    private readonly LockPipeline _optimistic;

    private MySqlCharges(string connectionString, ConnectionMultiplexer redis, string userId)
    {
        ConnectionString = connectionString;
        _key = new LockKey("bench-points", userId);
        var wait = TimeSpan.FromSeconds(30);
        _rowLock = new LockPipelineBuilder { Name = "row", WaitTimeout = wait }
            .AddMySqlTransaction(connectionString).AddMySqlRowLock("bench_points", "user_id").Build();
        _named = new LockPipelineBuilder { Name = "named", WaitTimeout = wait }
            .AddMySqlNamedLock(connectionString).AddMySqlTransaction(connectionString).Build();
        _dual = new LockPipelineBuilder { Name = "dual", WaitTimeout = wait }
            .AddRedisLock(redis).AddMySqlTransaction(connectionString).AddMySqlRowLock("bench_points", "user_id").Build();
        _optimistic = new LockPipelineBuilder { Name = "optimistic", WaitTimeout = wait, ConflictRetry = new ConflictRetryOptions { MaxAttempts = 100 } }
            .AddMySqlTransaction(connectionString).Build();
    }

    public string ConnectionString { get; }

    public static async Task<MySqlCharges> CreateAsync(string userId, ConnectionMultiplexer redis)
    {
        var baseConnection = RepositoryRoot.Env("ConnectionStrings__MySql");
        var builder = new MySqlConnectionStringBuilder(baseConnection) { Database = Database };
        await using (var admin = new MySqlConnection(new MySqlConnectionStringBuilder(baseConnection) { Database = "" }.ConnectionString))
        {
            await admin.ExecuteAsync($"CREATE DATABASE IF NOT EXISTS `{Database}`");
        }

        await using (var connection = new MySqlConnection(builder.ConnectionString))
        {
            await connection.ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS bench_points (
                  user_id VARCHAR(64) NOT NULL PRIMARY KEY,
                  amount BIGINT NOT NULL,
                  version BIGINT NOT NULL)
                """);
            await connection.ExecuteAsync("INSERT IGNORE INTO bench_points (user_id, amount, version) VALUES (@userId, 0, 0)", new { userId });
        }

        return new MySqlCharges(builder.ConnectionString, redis, userId);
    }

    /// <summary>Read-modify-write in a plain transaction: no lock, the negative control (loses updates under contention).</summary>
    public async Task PlainAsync()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted);
        var amount = await connection.ExecuteScalarAsync<long>(Read, new { id = _key.Id }, transaction);
        await connection.ExecuteAsync(Write, new { amount = amount + 1, id = _key.Id }, transaction);
        await transaction.CommitAsync();
    }

    public ValueTask ForUpdateAsync() => _rowLock.ExecuteAsync(_key, ReadModifyWriteAsync);

    public ValueTask NamedLockAsync() => _named.ExecuteAsync(_key, ReadModifyWriteAsync);

    public ValueTask DualAsync() => _dual.ExecuteAsync(_key, ReadModifyWriteAsync);

    public ValueTask OptimisticAsync() => _optimistic.ExecuteAsync(_key, async (context, ct) =>
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        var row = await tx.Connection.QuerySingleAsync<(long Amount, long Version)>(
            new CommandDefinition("SELECT amount, version FROM bench_points WHERE user_id = @id", new { id = _key.Id }, tx.Transaction, cancellationToken: ct));
        var changed = await tx.Connection.ExecuteAsync(new CommandDefinition(
            "UPDATE bench_points SET amount = @amount, version = version + 1 WHERE user_id = @id AND version = @version",
            new { amount = row.Amount + 1, id = _key.Id, version = row.Version },
            tx.Transaction,
            cancellationToken: ct));
        if (changed == 0)
        {
            throw new OptimisticConflictException();
        }
    });

    /// <summary>The physical limit: one statement, no read, no lock beyond the row's own.</summary>
    public async Task AtomicAsync()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.ExecuteAsync("UPDATE bench_points SET amount = amount + 1 WHERE user_id = @id", new { id = _key.Id });
    }

    public async Task<long> BalanceAsync()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        return await connection.ExecuteScalarAsync<long>(Read, new { id = _key.Id });
    }

    /// <summary>The multiplexer belongs to the caller; nothing else here holds resources.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async ValueTask ReadModifyWriteAsync(LockContext context, CancellationToken cancellationToken)
    {
        var db = context.GetRequiredFeature<MySqlTransactionFeature>();
        var amount = await db.Connection.ExecuteScalarAsync<long>(new CommandDefinition(Read, new { id = _key.Id }, db.Transaction, cancellationToken: cancellationToken));
        await db.Connection.ExecuteAsync(new CommandDefinition(Write, new { amount = amount + 1, id = _key.Id }, db.Transaction, cancellationToken: cancellationToken));
    }
}
