namespace UserPointApi.Data;

// Dapper row types (snake_case columns mapped by DefaultTypeMap.MatchNamesWithUnderscores).
internal sealed class UserRow
{
    public string Id { get; set; } = "";

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class PointRow
{
    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public long Amount { get; set; }

    public long Version { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Gets or sets the server's clock when a write read the row (<c>UTC_TIMESTAMP(6) AS read_at</c>): the write's timestamp.</summary>
    public DateTime ReadAt { get; set; }

    /// <summary>Gets or sets the row count of the conditional update read with the row (<c>ROW_COUNT() AS updated</c>).</summary>
    public long Updated { get; set; }
}

internal sealed class LedgerRow
{
    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public string Type { get; set; } = "";

    public long Amount { get; set; }

    public long BalanceAfter { get; set; }

    public DateTime CreatedAt { get; set; }

    public string? RefundOf { get; set; }

    public string? RefundedBy { get; set; }
}

internal sealed class AuditRow
{
    public long Balance { get; set; }

    public long LedgerSum { get; set; }

    public long EntryCount { get; set; }
}
