namespace UserPointApi.Data;

/// <summary>
/// The fragments of the sample's statements that MySQL and PostgreSQL spell differently. Everything else (Dapper
/// parameters, multi-statement batches, <c>FOR UPDATE</c>, <c>LIMIT ... OFFSET</c>) is common to both.
/// </summary>
public sealed record SqlDialect
{
    public static readonly SqlDialect MySql = new()
    {
        Now = "UTC_TIMESTAMP(6)",
        BigIntCast = "SIGNED",
        AgeSecondsOfCreatedAt = "TIMESTAMPDIFF(SECOND, created_at, UTC_TIMESTAMP(6))",
    };

    // statement_timestamp(), not now(): now() is the transaction's start, UTC_TIMESTAMP(6) the statement's (one value per statement).
    public static readonly SqlDialect Postgres = new()
    {
        Now = "statement_timestamp()",
        BigIntCast = "BIGINT",
        AgeSecondsOfCreatedAt = "CAST(FLOOR(EXTRACT(EPOCH FROM statement_timestamp() - created_at)) AS BIGINT)",
        IsPostgres = true,
    };

    /// <summary>Gets the server's current UTC time with microseconds.</summary>
    public required string Now { get; init; }

    /// <summary>Gets the 64-bit integer type of a <c>CAST</c>.</summary>
    public required string BigIntCast { get; init; }

    /// <summary>Gets the whole seconds since a row's <c>created_at</c>.</summary>
    public required string AgeSecondsOfCreatedAt { get; init; }

    /// <summary>
    /// Returns a membership test of a list parameter: Dapper expands <c>IN @list</c> for MySqlConnector but hands Npgsql
    /// the list as one array parameter, which PostgreSQL tests with <c>= ANY(...)</c>.
    /// </summary>
    public string InList(string parameter) => IsPostgres ? $"= ANY(@{parameter})" : $"IN @{parameter}";

    /// <summary>Gets a value indicating whether the statements that read a row count (<c>ROW_COUNT()</c> in MySQL) use PostgreSQL's <c>RETURNING</c> form.</summary>
    public bool IsPostgres { get; init; }
}
