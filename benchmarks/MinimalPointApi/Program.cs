using System.Data;
using System.Text.Json.Serialization;
using MinimalPointApi;
using MySqlConnector;

// The baseline of benchmarks/http.sh: the sample's charge (balance update + ledger entry in one
// transaction) written by hand. Minimal__Mode picks the locking, as the sample's strategies do:
//   locked  BEGIN; SELECT ... FOR UPDATE; UPDATE; INSERT ledger; COMMIT   (vs pessimistic)
//   atomic  BEGIN; conditional UPDATE; SELECT; INSERT ledger; COMMIT      (vs atomic)
//   plain   BEGIN; SELECT; UPDATE; INSERT ledger; COMMIT, no lock         (vs none: loses updates)
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, MinimalJson.Default));
var connectionString = builder.Configuration.GetConnectionString("MySql")
    ?? throw new InvalidOperationException("ConnectionStrings__MySql is not set.");
var mode = builder.Configuration["Minimal:Mode"] ?? "locked";
if (mode is not ("locked" or "atomic" or "plain"))
{
    throw new InvalidOperationException($"Minimal__Mode must be locked, atomic or plain (was {mode}).");
}

var app = builder.Build();
await Sql.MigrateAsync(connectionString);

app.MapGet("/health/ready", () => Results.Ok());
app.MapPost("/api/v1/users", async () => Results.Ok(Envelope.Ok(await Sql.CreateUserAsync(connectionString))));
app.MapGet("/api/v1/user-points/{userId}/audit", async (string userId) =>
    await Sql.AuditAsync(connectionString, userId) is { } audit ? Results.Ok(Envelope.Ok(audit)) : Results.NotFound(Envelope.Fail("USERPOINT_NOT_FOUND")));
app.MapPost("/api/v1/user-points/{userId}/charge", async (string userId, AmountRequest body) =>
{
    if (body.Amount is < 1 or > Sql.MaxCharge)
    {
        return Results.BadRequest(Envelope.Fail("USERPOINT_INVALID_CHARGE"));
    }

    var point = await Sql.ChargeAsync(connectionString, mode, userId, body.Amount);
    return point is null ? Results.NotFound(Envelope.Fail("USERPOINT_NOT_FOUND")) : Results.Ok(Envelope.Ok(point));
});

await app.RunAsync();

namespace MinimalPointApi
{
    internal sealed record AmountRequest(long Amount);

    internal sealed record PointDto(string UserId, long Amount, DateTime UpdatedAt);

    internal sealed record UserDto(string Id);

    internal sealed record AuditDto(long Balance, long LedgerSum, bool Consistent);

    internal sealed record ErrorDto(string Code);

    internal sealed record Envelope(bool Success, object? Data, ErrorDto? Error)
    {
        public static Envelope Ok(object data) => new(true, data, null);

        public static Envelope Fail(string code) => new(false, null, new ErrorDto(code));
    }

    [JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
    [JsonSerializable(typeof(Envelope))]
    [JsonSerializable(typeof(AmountRequest))]
    [JsonSerializable(typeof(PointDto))]
    [JsonSerializable(typeof(UserDto))]
    [JsonSerializable(typeof(AuditDto))]
    internal sealed partial class MinimalJson : JsonSerializerContext;

    internal static class Sql
    {
        public const long MaxCharge = 1_000_000;
        private const long MaxBalance = 10_000_000_000;

        public static async Task MigrateAsync(string connectionString)
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand(
                """
                CREATE TABLE IF NOT EXISTS user_points (
                  user_id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
                  amount BIGINT NOT NULL,
                  updated_at DATETIME(6) NOT NULL
                ) ENGINE=InnoDB;
                CREATE TABLE IF NOT EXISTS point_ledger (
                  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                  id CHAR(36) CHARACTER SET ascii NOT NULL,
                  user_id CHAR(36) CHARACTER SET ascii NOT NULL,
                  type VARCHAR(16) CHARACTER SET ascii NOT NULL,
                  amount BIGINT NOT NULL,
                  balance_after BIGINT NOT NULL,
                  created_at DATETIME(6) NOT NULL,
                  KEY ix_point_ledger_user (user_id, seq)
                ) ENGINE=InnoDB;
                """,
                connection);
            await command.ExecuteNonQueryAsync();
        }

        public static async Task<UserDto> CreateUserAsync(string connectionString)
        {
            var id = Guid.NewGuid().ToString();
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand("INSERT INTO user_points (user_id, amount, updated_at) VALUES (@id, 0, UTC_TIMESTAMP(6))", connection);
            command.Parameters.AddWithValue("@id", id);
            await command.ExecuteNonQueryAsync();
            return new UserDto(id);
        }

        public static async Task<AuditDto?> AuditAsync(string connectionString, string userId)
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand(
                "SELECT p.amount, CAST(COALESCE((SELECT SUM(l.amount) FROM point_ledger l WHERE l.user_id = p.user_id), 0) AS SIGNED) FROM user_points p WHERE p.user_id = @id",
                connection);
            command.Parameters.AddWithValue("@id", userId);
            await using var reader = await command.ExecuteReaderAsync();
            return await reader.ReadAsync() ? new AuditDto(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(0) == reader.GetInt64(1)) : null;
        }

        /// <summary>The charge; null for an unknown user. A balance over the maximum is not expected in the benchmark and throws.</summary>
        public static async Task<PointDto?> ChargeAsync(string connectionString, string mode, string userId, long delta)
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted);
            var now = DateTime.UtcNow;
            long balance;
            if (mode == "atomic")
            {
                var updated = await ExecuteAsync(
                    connection,
                    transaction,
                    "UPDATE user_points SET amount = amount + @delta, updated_at = @now WHERE user_id = @id AND amount + @delta <= @max",
                    ("@delta", delta),
                    ("@now", now),
                    ("@id", userId),
                    ("@max", MaxBalance));
                var read = await ReadBalanceAsync(connection, transaction, "SELECT amount FROM user_points WHERE user_id = @id", userId);
                if (read is null)
                {
                    return null;
                }

                balance = updated == 1 ? read.Value : throw new InvalidOperationException("The balance would exceed the maximum.");
            }
            else
            {
                var read = await ReadBalanceAsync(
                    connection,
                    transaction,
                    mode == "locked" ? "SELECT amount FROM user_points WHERE user_id = @id FOR UPDATE" : "SELECT amount FROM user_points WHERE user_id = @id",
                    userId);
                if (read is null)
                {
                    return null;
                }

                balance = read.Value + delta <= MaxBalance ? read.Value + delta : throw new InvalidOperationException("The balance would exceed the maximum.");
                await ExecuteAsync(connection, transaction, "UPDATE user_points SET amount = @balance, updated_at = @now WHERE user_id = @id", ("@balance", balance), ("@now", now), ("@id", userId));
            }

            await ExecuteAsync(
                connection,
                transaction,
                "INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at) VALUES (@entry, @id, 'charge', @delta, @balance, @now)",
                ("@entry", Guid.NewGuid().ToString()),
                ("@id", userId),
                ("@delta", delta),
                ("@balance", balance),
                ("@now", now));
            await transaction.CommitAsync();
            return new PointDto(userId, balance, now);
        }

        private static async Task<long?> ReadBalanceAsync(MySqlConnection connection, MySqlTransaction transaction, string sql, string userId)
        {
            await using var command = new MySqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("@id", userId);
            return await command.ExecuteScalarAsync() is long amount ? amount : null;
        }

        private static async Task<int> ExecuteAsync(MySqlConnection connection, MySqlTransaction transaction, string sql, params (string Name, object Value)[] parameters)
        {
            await using var command = new MySqlCommand(sql, connection, transaction);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            return await command.ExecuteNonQueryAsync();
        }
    }
}
