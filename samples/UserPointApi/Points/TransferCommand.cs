using UserPointApi.Idempotency;

namespace UserPointApi.Points;

/// <summary>A validated transfer of <see cref="Amount"/> points from one user to another (never the same one).</summary>
public sealed record TransferCommand(string FromUserId, string ToUserId, long Amount)
{
    public const string Operation = "transfer";

    /// <summary>The ledger type of the sender's entry (negative amount).</summary>
    public const string OutType = "transfer-out";

    /// <summary>The ledger type of the receiver's entry (positive amount).</summary>
    public const string InType = "transfer-in";

    /// <summary>Gets the idempotency claim to complete in the transfer's transaction, if the request carried a key.</summary>
    public IdempotencyClaim? Claim { get; init; }

    /// <summary>Gets the two users in canonical order (ordinal on the lower-case UUID, the order of the <c>user_id</c> index and of the lock keys): rows are always locked and updated lower id first.</summary>
    public (string Lower, string Higher) Ordered
        => string.CompareOrdinal(FromUserId, ToUserId) < 0 ? (FromUserId, ToUserId) : (ToUserId, FromUserId);
}
