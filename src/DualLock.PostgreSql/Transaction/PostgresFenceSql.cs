namespace DualLock.PostgreSql;

/// <summary>The fence table's SQL for PostgreSQL 12 and later.</summary>
internal static class PostgresFenceSql
{
    // The longest LockKey text is 64 + 1 + 128 + 1 + 64 characters; the "C" collation compares bytes, so keys that differ only in case stay apart.
    public static string CreateTable(string table) => $"""
        CREATE TABLE IF NOT EXISTS {table} (
          lock_key VARCHAR(258) COLLATE "C" NOT NULL PRIMARY KEY,
          token BIGINT NOT NULL,
          updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """;

    /// <summary>Whether the table exists, asked before <see cref="CreateTable"/> so no DDL runs once it does.</summary>
    public const string TableExists = "SELECT CASE WHEN to_regclass(@table) IS NULL THEN 0 ELSE 1 END";

    /// <summary>
    /// One round trip, run as the transaction's first statement: record max(stored, ours) and return what is stored.
    /// The upsert keeps the key's fence row locked until the transaction ends, so a newer holder's upsert waits for this
    /// one's commit (or rollback) and an older holder that comes later reads the higher token. The row wait is bounded in
    /// the server by <c>lock_timeout</c> (in milliseconds), set back for the work's statements.
    /// </summary>
    public static string RecordAndRead(string table, TimeSpan lockWait) =>
        PostgresCommands.LockTimeout(lockWait) + "; " +
        $"INSERT INTO {table} AS f (lock_key, token) VALUES (@key, @token) " +
        "ON CONFLICT (lock_key) DO UPDATE SET token = GREATEST(f.token, EXCLUDED.token), updated_at = now() RETURNING f.token; " +
        PostgresCommands.ResetLockTimeout;
}
