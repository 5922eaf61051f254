// The PostgreSQL presets of DualLock.PostgreSql, from the packed .nupkg files, against the real server: each takes a
// lock for a read-modify-write with a gap and must store every increment; the unlocked control must lose some.
using DualLock;
using DualLock.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

internal static class PostgresChecks
{
    private const string Table = "package_consumer_balances";
    private const int Callers = 8;

    /// <summary>Runs every PostgreSQL strategy; returns how many failed.</summary>
    internal static async Task<int> RunAsync(string postgres, string redis)
    {
        // "postgres-none" (a transaction, no lock) is the negative control.
        var strategies = new (string Name, bool Locks, bool Tokens)[]
        {
            ("postgres-none", false, false),
            ("postgres-pessimistic", true, false),
            ("postgres-advisory-lock", true, false),
            ("postgres-distributed", true, true),
            ("postgres-dual", true, true),
        };

        var services = new ServiceCollection();
        services.AddDualLock()
            .AddRedis(redis)
            .AddPipeline("postgres-none", p => p.AddPostgresTransaction(postgres))
            .AddPostgresPessimisticStrategy("postgres-pessimistic", o => { o.ConnectionString = postgres; o.Table = Table; o.KeyColumn = "id"; })
            .AddPostgresAdvisoryLockStrategy("postgres-advisory-lock", o => o.ConnectionString = postgres)
            .AddDistributedStrategy("postgres-distributed", (p, _) => p.AddPostgresTransaction(postgres, o => o.EnforceFencing = true))
            .AddDualStrategy("postgres-dual", (p, _) => p.AddPostgresTransaction(postgres, o => o.EnforceFencing = true).AddPostgresRowLock(Table, "id"))
            .AddPostgresOptimisticStrategy("postgres-optimistic", o => { o.ConnectionString = postgres; o.MaxAttempts = 1000; });

        await using var provider = services.BuildServiceProvider();
        await ExecuteAsync(postgres, $"CREATE TABLE IF NOT EXISTS {Table} (id BIGINT NOT NULL PRIMARY KEY, amount BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 0)");

        var failures = 0;
        foreach (var (name, locks, expectTokens) in strategies)
        {
            var strategy = provider.GetRequiredKeyedService<ILockStrategy>(name);
            var id = await NewRowAsync(postgres);
            var tokens = 0;
            await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => strategy.ExecuteAsync(new LockKey("package-consumer", id), async (context, ct) =>
            {
                if (context.FencingToken is not null)
                {
                    Interlocked.Increment(ref tokens);
                }

                var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
                await using var read = new NpgsqlCommand($"SELECT amount FROM {Table} WHERE id = @id", tx.Connection, tx.Transaction);
                read.Parameters.AddWithValue("id", id);
                var amount = Convert.ToInt64(await read.ExecuteScalarAsync(ct));
                await Task.Delay(20, ct);
                await using var write = new NpgsqlCommand($"UPDATE {Table} SET amount = @amount WHERE id = @id", tx.Connection, tx.Transaction);
                write.Parameters.AddWithValue("amount", amount + 1);
                write.Parameters.AddWithValue("id", id);
                await write.ExecuteNonQueryAsync(ct);
            }).AsTask()));

            var stored = await AmountAsync(postgres, id);
            var ok = (locks ? stored == Callers : stored < Callers) && tokens == (expectTokens ? Callers : 0);
            Console.WriteLine($"{(ok ? "ok" : "FAILED")}: {name}: {stored} of {Callers} increments stored (expected {(locks ? "all" : "fewer: no lock")}), {tokens} fencing tokens seen (expected {(expectTokens ? Callers : 0)})");
            failures += ok ? 0 : 1;
        }

        // The optimistic preset: a lost compare-and-set throws OptimisticConflictException and the pipeline re-runs the work.
        {
            var id = await NewRowAsync(postgres);
            var optimistic = provider.GetRequiredKeyedService<ILockStrategy>("postgres-optimistic");
            await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => optimistic.ExecuteAsync(new LockKey("package-consumer", id), async (context, ct) =>
            {
                var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
                // One statement reads both: under READ COMMITTED, two reads could see two different commits.
                long amount, version;
                await using (var read = new NpgsqlCommand($"SELECT amount, version FROM {Table} WHERE id = @id", tx.Connection, tx.Transaction))
                {
                    read.Parameters.AddWithValue("id", id);
                    await using var reader = await read.ExecuteReaderAsync(ct);
                    await reader.ReadAsync(ct);
                    (amount, version) = (reader.GetInt64(0), reader.GetInt64(1));
                }

                await Task.Delay(5, ct);
                await using var write = new NpgsqlCommand($"UPDATE {Table} SET amount = @amount, version = version + 1 WHERE id = @id AND version = @version", tx.Connection, tx.Transaction);
                write.Parameters.AddWithValue("id", id);
                write.Parameters.AddWithValue("amount", amount + 1);
                write.Parameters.AddWithValue("version", version);
                if (await write.ExecuteNonQueryAsync(ct) == 0)
                {
                    throw new OptimisticConflictException();
                }
            }).AsTask()));
            var stored = await AmountAsync(postgres, id);
            var ok = stored == Callers;
            Console.WriteLine($"{(ok ? "ok" : "FAILED")}: postgres-optimistic: {stored} of {Callers} increments stored");
            failures += ok ? 0 : 1;
        }

        return failures;
    }

    private static async Task<long> NewRowAsync(string connectionString)
    {
        var id = Random.Shared.NextInt64(1, long.MaxValue);
        await ExecuteAsync(connectionString, $"INSERT INTO {Table} (id, amount) VALUES ({id}, 0)");
        return id;
    }

    private static async Task<long> AmountAsync(string connectionString, long id)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT amount FROM {Table} WHERE id = {id}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
