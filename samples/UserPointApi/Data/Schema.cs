using Dapper;

namespace UserPointApi.Data;

/// <summary>
/// Creates the schema at start-up. Every statement is idempotent and the whole migration runs under
/// a named lock, so several instances starting at the same moment are safe.
/// </summary>
public static class Schema
{
    private const string MigrationLock = "userpointapi.migrate";

    private static readonly string[] MySqlStatements =
    [
        """
        CREATE TABLE IF NOT EXISTS users (
          id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
          created_at DATETIME(6) NOT NULL,
          updated_at DATETIME(6) NOT NULL
        ) ENGINE=InnoDB
        """,
        // user_id is what the row lock locks: unique index, so FOR UPDATE locks one row, never the table.
        """
        CREATE TABLE IF NOT EXISTS user_points (
          id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
          user_id CHAR(36) CHARACTER SET ascii NOT NULL,
          amount BIGINT NOT NULL,
          version BIGINT NOT NULL DEFAULT 0,
          created_at DATETIME(6) NOT NULL,
          updated_at DATETIME(6) NOT NULL,
          UNIQUE KEY ux_user_points_user_id (user_id),
          CONSTRAINT fk_user_points_user FOREIGN KEY (user_id) REFERENCES users (id),
          CONSTRAINT ck_user_points_amount CHECK (amount >= 0)
        ) ENGINE=InnoDB
        """,
        // refund_of is unique: the database itself refuses a second refund of one use.
        """
        CREATE TABLE IF NOT EXISTS point_ledger (
          seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
          id CHAR(36) CHARACTER SET ascii NOT NULL,
          user_id CHAR(36) CHARACTER SET ascii NOT NULL,
          type VARCHAR(16) CHARACTER SET ascii NOT NULL,
          amount BIGINT NOT NULL,
          balance_after BIGINT NOT NULL,
          created_at DATETIME(6) NOT NULL,
          refund_of CHAR(36) CHARACTER SET ascii NULL,
          refunded_by CHAR(36) CHARACTER SET ascii NULL,
          UNIQUE KEY ux_point_ledger_id (id),
          UNIQUE KEY ux_point_ledger_refund_of (refund_of),
          KEY ix_point_ledger_user (user_id, seq)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE IF NOT EXISTS idempotency_keys (
          idem_key VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
          owner CHAR(36) CHARACTER SET ascii NOT NULL,
          user_id CHAR(36) CHARACTER SET ascii NULL,
          operation VARCHAR(16) CHARACTER SET ascii NOT NULL,
          request_hash CHAR(64) CHARACTER SET ascii NOT NULL,
          status VARCHAR(16) CHARACTER SET ascii NOT NULL,
          status_code INT NULL,
          response MEDIUMTEXT NULL,
          created_at DATETIME(6) NOT NULL,
          completed_at DATETIME(6) NULL
        ) ENGINE=InnoDB
        """,
    ];

    // The same tables in PostgreSQL: timestamptz (read back as UTC), text ids, an identity sequence for the ledger order.
    private static readonly string[] PostgresStatements =
    [
        """
        CREATE TABLE IF NOT EXISTS users (
          id VARCHAR(36) NOT NULL PRIMARY KEY,
          created_at TIMESTAMPTZ NOT NULL,
          updated_at TIMESTAMPTZ NOT NULL
        )
        """,
        // user_id is what the row lock locks: unique index, so FOR UPDATE locks one row.
        """
        CREATE TABLE IF NOT EXISTS user_points (
          id VARCHAR(36) NOT NULL PRIMARY KEY,
          user_id VARCHAR(36) NOT NULL,
          amount BIGINT NOT NULL,
          version BIGINT NOT NULL DEFAULT 0,
          created_at TIMESTAMPTZ NOT NULL,
          updated_at TIMESTAMPTZ NOT NULL,
          CONSTRAINT ux_user_points_user_id UNIQUE (user_id),
          CONSTRAINT fk_user_points_user FOREIGN KEY (user_id) REFERENCES users (id),
          CONSTRAINT ck_user_points_amount CHECK (amount >= 0)
        )
        """,
        // refund_of is unique: the database itself refuses a second refund of one use.
        """
        CREATE TABLE IF NOT EXISTS point_ledger (
          seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          id VARCHAR(36) NOT NULL,
          user_id VARCHAR(36) NOT NULL,
          type VARCHAR(16) NOT NULL,
          amount BIGINT NOT NULL,
          balance_after BIGINT NOT NULL,
          created_at TIMESTAMPTZ NOT NULL,
          refund_of VARCHAR(36) NULL,
          refunded_by VARCHAR(36) NULL,
          CONSTRAINT ux_point_ledger_id UNIQUE (id),
          CONSTRAINT ux_point_ledger_refund_of UNIQUE (refund_of)
        )
        """,
        "CREATE INDEX IF NOT EXISTS ix_point_ledger_user ON point_ledger (user_id, seq)",
        // COLLATE "C": the key compares byte for byte, as ascii_bin does in MySQL.
        """
        CREATE TABLE IF NOT EXISTS idempotency_keys (
          idem_key VARCHAR(128) COLLATE "C" NOT NULL PRIMARY KEY,
          owner VARCHAR(36) NOT NULL,
          user_id VARCHAR(36) NULL,
          operation VARCHAR(16) NOT NULL,
          request_hash CHAR(64) NOT NULL,
          status VARCHAR(16) NOT NULL,
          status_code INT NULL,
          response TEXT NULL,
          created_at TIMESTAMPTZ NOT NULL,
          completed_at TIMESTAMPTZ NULL
        )
        """,
    ];

    public static async Task MigrateAsync(Database database, ILogger logger, CancellationToken cancellationToken)
    {
        if (database.Kind == DatabaseKind.Postgres)
        {
            await MigratePostgresAsync(database, logger, cancellationToken);
            return;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var acquired = await connection.ExecuteScalarAsync<int?>(
            new CommandDefinition("SELECT GET_LOCK(@name, 60)", new { name = MigrationLock }, cancellationToken: cancellationToken));
        if (acquired != 1)
        {
            throw new InvalidOperationException("Could not take the migration lock within 60 s; is another instance stuck migrating?");
        }

        try
        {
            foreach (var statement in MySqlStatements)
            {
                await connection.ExecuteAsync(new CommandDefinition(statement, cancellationToken: cancellationToken));
            }
        }
        finally
        {
            await connection.ExecuteScalarAsync<int?>(new CommandDefinition("SELECT RELEASE_LOCK(@name)", new { name = MigrationLock }, cancellationToken: CancellationToken.None));
        }

        Log.Migrated(logger, MySqlStatements.Length);
    }

    /// <summary>
    /// The PostgreSQL migration: one transaction holding a transaction-scoped advisory lock, so concurrent starts run it
    /// one after the other (CREATE TABLE IF NOT EXISTS alone can still collide in the catalog) and a crash leaves nothing half done.
    /// </summary>
    private static async Task MigratePostgresAsync(Database database, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "SET LOCAL lock_timeout = '60s'; SELECT pg_advisory_xact_lock(hashtext(@name))", new { name = MigrationLock }, transaction, cancellationToken: cancellationToken));
        foreach (var statement in PostgresStatements)
        {
            await connection.ExecuteAsync(new CommandDefinition(statement, transaction: transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        Log.Migrated(logger, PostgresStatements.Length);
    }
}
