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

    // One round trip: record max(stored, ours) and read back what is stored. The upsert locks the key's
    // fence row until commit, so two fenced commits of one key are serialised and compare correctly.
    public static string RecordAndRead(string table) =>
        $"INSERT INTO {table} (lock_key, token) VALUES (@key, @token) ON DUPLICATE KEY UPDATE token = GREATEST(token, @token); " +
        $"SELECT token FROM {table} WHERE lock_key = @key";
}
