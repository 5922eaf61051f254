using System.Globalization;

namespace DualLock.MySql;

/// <summary>The fence table's SQL; runs unchanged on MariaDB 10.x and MySQL 8.</summary>
internal static class FenceSql
{
    // The longest LockKey text is 64 + 1 + 128 + 1 + 64 characters; a binary collation keeps keys that differ only in case apart.
    public static string CreateTable(string table) => $"""
        CREATE TABLE IF NOT EXISTS {table} (
          lock_key VARCHAR(258) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
          token BIGINT NOT NULL,
          updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
        ) ENGINE=InnoDB
        """;

    /// <summary>
    /// Whether the table exists, asked before <see cref="CreateTable"/>: even <c>IF NOT EXISTS</c> DDL waits for
    /// the metadata lock that every open fenced transaction holds on the table, so a stage's first
    /// transaction would queue behind all of them.
    /// </summary>
    public const string TableExists =
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table";

    /// <summary>
    /// One round trip, run right after BEGIN: record max(stored, ours) and read back what is stored. The
    /// upsert keeps the key's fence row locked until the transaction ends, so a newer holder's upsert
    /// waits for this one's commit (or rollback) and an older holder that comes later reads the higher
    /// token. The row wait is bounded in the server by <paramref name="lockWaitSeconds"/> (whole seconds,
    /// the caller's deadline ends it sooner); the session's own setting is restored for the work.
    /// </summary>
    public static string RecordAndRead(string table, int lockWaitSeconds) =>
        "SET SESSION innodb_lock_wait_timeout = " + lockWaitSeconds.ToString(CultureInfo.InvariantCulture) + "; " +
        $"INSERT INTO {table} (lock_key, token) VALUES (@key, @token) ON DUPLICATE KEY UPDATE token = GREATEST(token, @token); " +
        "SET SESSION innodb_lock_wait_timeout = DEFAULT; " +
        $"SELECT token FROM {table} WHERE lock_key = @key";
}
