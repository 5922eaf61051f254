namespace UserPointApi.Points;

/// <summary>A user.</summary>
public sealed record UserDto(string Id, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A user's point row; <see cref="Amount"/> is the balance.</summary>
public sealed record UserPointDto(string Id, string UserId, long Amount, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The result of a charge, use or refund: the point row after the write, plus the ledger entry's id (what a refund names).</summary>
public sealed record PointWriteDto(string Id, string UserId, long Amount, DateTime CreatedAt, DateTime UpdatedAt, string TransactionId);

/// <summary>The result of a transfer: each side's point row after it and its ledger entry (<c>transfer-out</c> on the sender, <c>transfer-in</c> on the receiver).</summary>
public sealed record TransferDto(long Amount, PointWriteDto From, PointWriteDto To);

/// <summary>One ledger entry: <see cref="Amount"/> is signed (a use is negative).</summary>
public sealed record LedgerEntryDto(string Id, string Type, long Amount, long BalanceAfter, DateTime CreatedAt, string? RefundOf, string? RefundedBy);

/// <summary>A page of the ledger, newest first.</summary>
public sealed record HistoryPageDto(IReadOnlyList<LedgerEntryDto> Items, int Page, int Size, long Total);

/// <summary>The stored balance against the ledger.</summary>
public sealed record AuditDto(long Balance, long LedgerSum, long EntryCount, bool Consistent);

/// <summary>The body of charge and use (documentation only: bodies are parsed by <see cref="Api.RequestBody"/>).</summary>
public sealed record AmountRequest(long Amount);

/// <summary>The body of transfer (documentation only): the receiver's UUID and the amount.</summary>
public sealed record TransferRequest(string ToUserId, long Amount);

/// <summary>The body of refund (documentation only).</summary>
public sealed record RefundRequest(string TransactionId);
