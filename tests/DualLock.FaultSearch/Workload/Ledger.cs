using System.Data.Common;
using Dapper;
using MySqlConnector;
using Npgsql;

namespace DualLock.FaultSearch.Workload;

/// <summary>
/// The ledger: one row per call and key, written by the work (in the lock's transaction when it has one),
/// and a counter per key that the work reads and writes back with a gap, so two writers inside at once
/// lose an increment. The checker reads both after the run.
/// </summary>
internal static class Ledger
{
    public const string Table = "fs_ledger";
    public const string Counters = "fs_counter";

    /// <summary>Drops and recreates the harness's tables and the rows the row locks select.</summary>
    public static async Task ResetAsync(string connectionString, IEnumerable<string> keyIds)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"""
            DROP TABLE IF EXISTS {Table}, {Counters}, {StrategyFactory.RowTable}, {StrategyFactory.FenceTable};
            CREATE TABLE {Table} (
              id BIGINT AUTO_INCREMENT PRIMARY KEY,
              call_id VARCHAR(80) NOT NULL, holder VARCHAR(80) NOT NULL, strategy VARCHAR(32) NOT NULL,
              key_id VARCHAR(64) NOT NULL, kind CHAR(1) NOT NULL, token BIGINT NULL, pid INT NOT NULL,
              KEY (call_id)) ENGINE=InnoDB;
            CREATE TABLE {Counters} (key_id VARCHAR(64) PRIMARY KEY, value BIGINT NOT NULL) ENGINE=InnoDB;
            CREATE TABLE {StrategyFactory.RowTable} (id VARCHAR(128) PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB;
            """);
        foreach (var id in keyIds)
        {
            await connection.ExecuteAsync(
                $"INSERT INTO {Counters} (key_id, value) VALUES (@id, 0); INSERT INTO {StrategyFactory.RowTable} (id) VALUES (@id)", new { id });
        }
    }

    /// <summary>
    /// The same tables in PostgreSQL, for the postgres-* strategies (their ledger rows commit in their own transaction
    /// there). Ids start at <see cref="PostgresIdBase"/>: the checker merges both ledgers and an id names one row.
    /// </summary>
    public static async Task ResetPostgresAsync(string connectionString, IEnumerable<string> keyIds)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await connection.ExecuteAsync($"""
            DROP TABLE IF EXISTS {Table}, {Counters}, {StrategyFactory.RowTable}, {StrategyFactory.FenceTable};
            CREATE TABLE {Table} (
              id bigint GENERATED ALWAYS AS IDENTITY (START WITH {PostgresIdBase}) PRIMARY KEY,
              call_id varchar(80) NOT NULL, holder varchar(80) NOT NULL, strategy varchar(32) NOT NULL,
              key_id varchar(64) NOT NULL, kind char(1) NOT NULL, token bigint NULL, pid int NOT NULL);
            CREATE INDEX ON {Table} (call_id);
            CREATE TABLE {Counters} (key_id varchar(64) PRIMARY KEY, value bigint NOT NULL);
            CREATE TABLE {StrategyFactory.RowTable} (id varchar(128) PRIMARY KEY, value bigint NOT NULL DEFAULT 0);
            """);
        var ids = keyIds.ToArray();
        await connection.ExecuteAsync(
            $"INSERT INTO {Counters} (key_id, value) SELECT unnest(@ids), 0; INSERT INTO {StrategyFactory.RowTable} (id) SELECT unnest(@ids)", new { ids });
    }

    /// <summary>
    /// The coordinator's side connections to PostgreSQL are not pooled: Npgsql hands out a pooled connection without
    /// checking it, and one left from before a server restart fails its first command.
    /// </summary>
    public static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    /// <summary>The first id of a PostgreSQL ledger row (MariaDB's auto-increment ids stay far below it).</summary>
    public const long PostgresIdBase = 1_000_000_000_000;

    /// <summary>Writes the call's rows (one per key) and, for a writer, bumps each key's counter with a read, a gap and a write.</summary>
    public static async Task WriteAsync(DbConnection connection, DbTransaction? transaction, CallRecord call, CancellationToken cancellationToken)
    {
        for (var i = 0; i < call.KeyIds.Length; i++)
        {
            var key = call.KeyIds[i];
            var token = i < call.KeyTokens.Length ? call.KeyTokens[i] : call.Token;
            await connection.ExecuteAsync(new CommandDefinition(
                $"INSERT INTO {Table} (call_id, holder, strategy, key_id, kind, token, pid) VALUES (@Id, @Holder, @Strategy, @key, @Kind, @token, @Pid)",
                new { call.Id, call.Holder, call.Strategy, key, call.Kind, token, call.Pid },
                transaction,
                cancellationToken: cancellationToken));
            if (call.Kind is "x" or "w")
            {
                var value = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    $"SELECT value FROM {Counters} WHERE key_id = @key", new { key }, transaction, cancellationToken: cancellationToken));
                await Task.Delay(1, cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(
                    $"UPDATE {Counters} SET value = @next WHERE key_id = @key", new { key, next = value + 1 }, transaction, cancellationToken: cancellationToken));
            }
        }
    }

    /// <summary>The same in a short transaction of the harness's own, for a strategy without one.</summary>
    public static async Task WriteOwnAsync(string connectionString, CallRecord call, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
        await WriteAsync(connection, transaction, call, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
