using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>A validated write: charge or use <see cref="Amount"/>, or refund <see cref="TransactionId"/>.</summary>
public sealed record PointCommand(string Operation, string UserId, long Amount, string? TransactionId)
{
    public const string Charge = "charge";
    public const string Use = "use";
    public const string Refund = "refund";

    /// <summary>Gets the idempotency claim to complete in the write's transaction, if the request carried a key.</summary>
    public IdempotencyClaim? Claim { get; init; }
}

/// <summary>How the balance is changed inside the transaction.</summary>
public enum WriteMode
{
    /// <summary>Read the balance, compute, write the absolute value: correct only under a lock.</summary>
    ReadModifyWrite,

    /// <summary>Read balance and version, write only if the version is unchanged; the caller retries.</summary>
    CompareAndSet,

    /// <summary>One conditional relative update; no read before it.</summary>
    Atomic,
}
