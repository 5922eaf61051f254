using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The contract table in PostgreSQL, written through <see cref="PostgresTransactionFeature"/>.</summary>
public sealed class PostgresContractTable(string name) : ContractTable(name)
{
    public override async Task InsertAsync(IReadOnlyList<LockKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await using var connection = await Servers.OpenPostgresAsync();
        foreach (var chunk in keys.Chunk(1_000))
        {
            await connection.ExecuteAsync($"INSERT INTO \"{Name}\" (id) SELECT unnest(@ids)", new { ids = chunk.Select(k => k.Id).ToArray() });
        }
    }

    public override async ValueTask WriteMarkAsync(LockContext context, string note)
    {
        ArgumentNullException.ThrowIfNull(context);

        // One mark per key: a multi-key execution marks each key of its set (in the set's canonical order).
        var tx = context.GetRequiredFeature<PostgresTransactionFeature>();
        foreach (var key in context.Keys)
        {
            await tx.Connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO \"{Name}\" (id, value, note) VALUES (@id, 1, @note) ON CONFLICT (id) DO UPDATE SET value = \"{Name}\".value + 1, note = EXCLUDED.note",
                new { id = key.Id, note },
                tx.Transaction));
        }
    }

    public override async Task<string?> CommittedNoteAsync(LockKey key)
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return await connection.ExecuteScalarAsync<string?>($"SELECT note FROM \"{Name}\" WHERE id = @id", new { id = key.Id });
    }

    public override async Task<long> CommittedMarksAsync(LockKey? key)
    {
        await using var connection = await Servers.OpenPostgresAsync();
        return key is null
            ? await connection.ExecuteScalarAsync<long>($"SELECT COALESCE(SUM(value), 0)::bigint FROM \"{Name}\"")
            : await connection.ExecuteScalarAsync<long>($"SELECT COALESCE(SUM(value), 0)::bigint FROM \"{Name}\" WHERE id = @id", new { id = key.Value.Id });
    }

    public override async Task FindLockedRowsAsync(string table, List<string> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        await using var connection = await Servers.OpenPostgresAsync();
        await using var tx = await connection.BeginTransactionAsync();
        try
        {
            // Any row still locked by a transaction the stages left open makes NOWAIT fail at once.
            await connection.ExecuteAsync($"SELECT * FROM \"{table}\" FOR UPDATE NOWAIT", transaction: tx);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            found.Add($"rows of {table} still locked ({ex.MessageText})");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // The fence table is created on the first fenced acquire.
        }

        await tx.RollbackAsync();
    }

    public override async Task FindAdvisoryLocksAsync(string lockNamespace, IReadOnlyList<LockKey> keys, List<string> found)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(found);

        // A bigint advisory lock shows in pg_locks as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
        var ids = keys.Select(k => AdvisoryLockId.For(lockNamespace, k)).ToArray();
        await using var connection = await Servers.OpenPostgresAsync();
        var held = await connection.ExecuteScalarAsync<long>(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((classid::bigint << 32) | objid::bigint) = ANY(@ids)
            """,
            new { ids });
        if (held > 0)
        {
            found.Add($"{held} advisory locks still held or awaited");
        }
    }

    public override async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS \"{Name}\", \"{FenceTable}\"");
    }

    protected override async Task CreateAsync()
    {
        await using var connection = await Servers.OpenPostgresAsync();
        await connection.ExecuteAsync(
            $"CREATE TABLE \"{Name}\" (id varchar(64) NOT NULL PRIMARY KEY, value bigint NOT NULL DEFAULT 0, version bigint NOT NULL DEFAULT 0, note varchar(64) NULL)");
    }
}
