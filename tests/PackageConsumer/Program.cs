// Takes a lock with each one-line registration the packages offer, against the real servers, from the
// packed .nupkg files. Exit code 0 when every strategy kept a read-modify-write exact (and the unlocked
// control lost updates), 1 otherwise.
using DualLock;
using DualLock.MySql;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

// What a registration resolves to; when the presets arrive this becomes ILockStrategy.
using Strategy = DualLock.LockPipeline;

var mySql = Required("ConnectionStrings__MySql");
var redis = Required("ConnectionStrings__Redis");
const string Table = "package_consumer_points";

// One line per strategy; swapping to the presets is one line each (e.g. b => b.AddPessimisticStrategy("pessimistic", ...)).
// "none" (a transaction, no lock) is the negative control: it must lose updates, or the check proves nothing.
var registrations = new (string Name, Action<DualLockBuilder> Register, bool Locks)[]
{
    ("none", b => b.AddPipeline("none", p => p.AddMySqlTransaction(mySql)), false),
    ("pessimistic", b => b.AddPipeline("pessimistic", p => p.AddMySqlTransaction(mySql).AddMySqlRowLock(Table, "id")), true),
    ("distributed", b => b.AddPipeline("distributed", (p, sp) => p.AddRedisLock(sp).AddMySqlTransaction(mySql, o => o.EnforceFencing = true)), true),
    ("dual", b => b.AddDualPipeline("dual", (p, sp) => p.AddRedisLock(sp), (p, _) => p.AddMySqlTransaction(mySql).AddMySqlRowLock(Table, "id")), true),
};

var services = new ServiceCollection();
var dualLock = services.AddDualLock().AddRedis(redis);
foreach (var (_, register, _) in registrations)
{
    register(dualLock);
}

await using var provider = services.BuildServiceProvider();
await CreateTableAsync(mySql);

const int Callers = 8;
var failures = 0;
foreach (var (name, _, locks) in registrations)
{
    var strategy = provider.GetRequiredKeyedService<Strategy>(name);
    var id = $"{name}-{Guid.NewGuid():N}";
    await ExecuteAsync(mySql, "INSERT INTO package_consumer_points (id, amount) VALUES (@id, 0)", ("id", id));
    var tokens = 0;

    // A read-modify-write with a pause between the read and the write: without the lock, callers overwrite each other.
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => strategy.ExecuteAsync(new LockKey("package-consumer", id), async (context, ct) =>
    {
        if (context.FencingToken is not null)
        {
            Interlocked.Increment(ref tokens);
        }

        var transaction = context.GetRequiredFeature<MySqlTransactionFeature>();
        await using var read = new MySqlCommand($"SELECT amount FROM {Table} WHERE id = @id", transaction.Connection, transaction.Transaction);
        read.Parameters.AddWithValue("id", id);
        var amount = Convert.ToInt64(await read.ExecuteScalarAsync(ct));
        await Task.Delay(20, ct);
        await using var write = new MySqlCommand($"UPDATE {Table} SET amount = @amount WHERE id = @id", transaction.Connection, transaction.Transaction);
        write.Parameters.AddWithValue("amount", amount + 1);
        write.Parameters.AddWithValue("id", id);
        await write.ExecuteNonQueryAsync(ct);
    }).AsTask()));

    var stored = await ScalarAsync(mySql, $"SELECT amount FROM {Table} WHERE id = @id", ("id", id));
    var expectTokens = name is "distributed" or "dual";
    var ok = (locks ? stored == Callers : stored < Callers) && tokens == (expectTokens ? Callers : 0);
    Console.WriteLine($"{(ok ? "ok" : "FAILED")}: {name}: {stored} of {Callers} increments stored (expected {(locks ? "all" : "fewer: no lock")}), {tokens} fencing tokens seen (expected {(expectTokens ? Callers : 0)})");
    failures += ok ? 0 : 1;
}

// The optimistic executor: CompareAndSetAsync reads an anonymous object's properties (kept under trimming by its annotation).
{
    var id = $"optimistic-{Guid.NewGuid():N}";
    await ExecuteAsync(mySql, "INSERT INTO package_consumer_points (id, amount) VALUES (@id, 0)", ("id", id));
    var executor = new MySqlOptimisticExecutor(new MySqlOptimisticOptions { ConnectionString = mySql, MaxAttempts = 1000 });
    await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => executor.ExecuteAsync(new LockKey("package-consumer", id), async (attempt, ct) =>
    {
        await using var read = new MySqlCommand($"SELECT amount, version FROM {Table} WHERE id = @id", attempt.Connection, attempt.Transaction);
        read.Parameters.AddWithValue("id", id);
        long amount, version;
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (amount, version) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        await Task.Delay(5, ct);
        return await attempt.CompareAndSetAsync(
            $"UPDATE {Table} SET amount = @amount, version = version + 1 WHERE id = @id AND version = @version",
            new { id, amount = amount + 1, version },
            ct);
    }).AsTask()));
    var stored = await ScalarAsync(mySql, $"SELECT amount FROM {Table} WHERE id = @id", ("id", id));
    var ok = stored == Callers;
    Console.WriteLine($"{(ok ? "ok" : "FAILED")}: optimistic: {stored} of {Callers} increments stored");
    failures += ok ? 0 : 1;
}

Console.WriteLine(failures == 0 ? "package consumer: every strategy exact" : $"package consumer: {failures} strategies FAILED");
return failures == 0 ? 0 : 1;

static string Required(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
    ? value
    : throw new InvalidOperationException($"{variable} is not set; run: eval \"$(scripts/services.sh env)\"");

static async Task CreateTableAsync(string connectionString) => await ExecuteAsync(
    connectionString,
    "CREATE TABLE IF NOT EXISTS package_consumer_points (id VARCHAR(64) NOT NULL PRIMARY KEY, amount BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB");

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
