// Takes a lock with each one-line registration (preset) the packages offer, against the real servers, from the
// packed .nupkg files (the PostgreSQL presets in PostgresChecks.cs). Exit code 0 when every strategy kept a read-modify-write exact (and the unlocked
// control lost updates), 1 otherwise.
using DualLock;
using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

var mySql = Required("ConnectionStrings__MySql");
var redis = Required("ConnectionStrings__Redis");
var postgres = Required("ConnectionStrings__Postgres");
const string Table = "package_consumer_balances";

// One preset per strategy, each resolved as a keyed ILockStrategy.
// "none" (a transaction, no lock) is the negative control: it must lose updates, or the check proves nothing.
var strategies = new (string Name, bool Locks, bool Tokens)[]
{
    ("none", false, false),
    ("in-process", true, false),
    ("pessimistic", true, false),
    ("named-lock", true, false),
    ("distributed", true, true),
    ("dual", true, true),
};

var services = new ServiceCollection();
services.AddDualLock()
    .AddRedis(redis)
    .AddPipeline("none", p => p.AddMySqlTransaction(mySql))
    .AddInProcessStrategy("in-process")
    .AddPessimisticStrategy("pessimistic", o => { o.ConnectionString = mySql; o.Table = Table; o.KeyColumn = "id"; })
    .AddNamedLockStrategy("named-lock", o => o.ConnectionString = mySql)
    .AddDistributedStrategy("distributed", (p, _) => p.AddMySqlTransaction(mySql, o => o.EnforceFencing = true))
    .AddDualStrategy("dual", (p, _) => p.AddMySqlTransaction(mySql).AddMySqlRowLock(Table, "id"))
    .AddOptimisticStrategy("optimistic", o => { o.ConnectionString = mySql; o.MaxAttempts = 1000; });

await using var provider = services.BuildServiceProvider();
await CreateTableAsync(mySql);

const int Callers = 8;
var failures = 0;
foreach (var (name, locks, expectTokens) in strategies)
{
    var strategy = provider.GetRequiredKeyedService<ILockStrategy>(name);
    var id = NewId();
    await ExecuteAsync(mySql, $"INSERT INTO {Table} (id, amount) VALUES (@id, 0)", ("id", id));
    var tokens = 0;

    // A read-modify-write with a pause between the read and the write: without the lock, callers overwrite each other.
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => strategy.ExecuteAsync(new LockKey("package-consumer", id), async (context, ct) =>
    {
        if (context.FencingToken is not null)
        {
            Interlocked.Increment(ref tokens);
        }

        // The in-process strategy opens no transaction: the work then writes on a connection of its own.
        var transaction = context.GetFeature<MySqlTransactionFeature>();
        await using var own = transaction is null ? new MySqlConnection(mySql) : null;
        if (own is not null)
        {
            await own.OpenAsync(ct);
        }

        var connection = transaction?.Connection ?? own!;
        await using var read = new MySqlCommand($"SELECT amount FROM {Table} WHERE id = @id", connection, transaction?.Transaction);
        read.Parameters.AddWithValue("id", id);
        var amount = Convert.ToInt64(await read.ExecuteScalarAsync(ct));
        await Task.Delay(20, ct);
        await using var write = new MySqlCommand($"UPDATE {Table} SET amount = @amount WHERE id = @id", connection, transaction?.Transaction);
        write.Parameters.AddWithValue("amount", amount + 1);
        write.Parameters.AddWithValue("id", id);
        await write.ExecuteNonQueryAsync(ct);
    }).AsTask()));

    var stored = await ScalarAsync(mySql, $"SELECT amount FROM {Table} WHERE id = @id", ("id", id));
    var ok = (locks ? stored == Callers : stored < Callers) && tokens == (expectTokens ? Callers : 0);
    Console.WriteLine($"{(ok ? "ok" : "FAILED")}: {name}: {stored} of {Callers} increments stored (expected {(locks ? "all" : "fewer: no lock")}), {tokens} fencing tokens seen (expected {(expectTokens ? Callers : 0)})");
    failures += ok ? 0 : 1;
}

// The optimistic preset: an ILockStrategy like the others; a lost compare-and-set is re-run by the pipeline.
{
    var id = NewId();
    await ExecuteAsync(mySql, $"INSERT INTO {Table} (id, amount) VALUES (@id, 0)", ("id", id));
    var optimistic = provider.GetRequiredKeyedService<ILockStrategy>("optimistic");
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => optimistic.ExecuteAsync(new LockKey("package-consumer", id), async (context, ct) =>
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        await using var read = new MySqlCommand($"SELECT amount, version FROM {Table} WHERE id = @id", tx.Connection, tx.Transaction);
        read.Parameters.AddWithValue("id", id);
        long amount, version;
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (amount, version) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        await Task.Delay(5, ct);
        await using var write = new MySqlCommand($"UPDATE {Table} SET amount = @amount, version = version + 1 WHERE id = @id AND version = @version", tx.Connection, tx.Transaction);
        write.Parameters.AddWithValue("id", id);
        write.Parameters.AddWithValue("amount", amount + 1);
        write.Parameters.AddWithValue("version", version);
        if (await write.ExecuteNonQueryAsync(ct) == 0)
        {
            throw new OptimisticConflictException();
        }
    }, cancellationToken: default).AsTask()));
    var stored = await ScalarAsync(mySql, $"SELECT amount FROM {Table} WHERE id = @id", ("id", id));
    var ok = stored == Callers;
    Console.WriteLine($"{(ok ? "ok" : "FAILED")}: optimistic: {stored} of {Callers} increments stored");
    failures += ok ? 0 : 1;
}

failures += await PostgresChecks.RunAsync(postgres, redis);

Console.WriteLine(failures == 0 ? "package consumer: every strategy exact" : $"package consumer: {failures} strategies FAILED");
return failures == 0 ? 0 : 1;

static string Required(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
    ? value
    : throw new InvalidOperationException($"{variable} is not set; run: eval \"$(scripts/services.sh env)\"");

// Ids are longs, as a user id is; each run and strategy takes a fresh one.
static long NewId() => Random.Shared.NextInt64(1, long.MaxValue);

static async Task CreateTableAsync(string connectionString) => await ExecuteAsync(
    connectionString,
    "CREATE TABLE IF NOT EXISTS package_consumer_balances (id BIGINT NOT NULL PRIMARY KEY, amount BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB");

static async Task ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand(sql, connection);
    foreach (var (name, value) in parameters)
    {
        command.Parameters.AddWithValue(name, value);
    }

    await command.ExecuteNonQueryAsync();
}

static async Task<long> ScalarAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
{
    await using var connection = new MySqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new MySqlCommand(sql, connection);
    foreach (var (name, value) in parameters)
    {
        command.Parameters.AddWithValue(name, value);
    }

    return Convert.ToInt64(await command.ExecuteScalarAsync());
}
