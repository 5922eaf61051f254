namespace UserPointApi.Api;

/// <summary>The stable error codes; clients switch on these, never on messages.</summary>
public static class ErrorCodes
{
    /// <summary>400: malformed input (JSON, types, ids, paging, headers).</summary>
    public const string InvalidArgument = "G_INVALID_ARG";

    /// <summary>400: a charge amount outside 1..MaxCharge.</summary>
    public const string InvalidCharge = "USERPOINT_INVALID_CHARGE";

    /// <summary>400: a transfer amount outside 1..MaxCharge.</summary>
    public const string InvalidTransfer = "USERPOINT_INVALID_TRANSFER";

    /// <summary>400: a transfer whose receiver is its sender.</summary>
    public const string SelfTransfer = "USERPOINT_SELF_TRANSFER";

    /// <summary>404: no such route.</summary>
    public const string NotFound = "G_NOT_FOUND";

    /// <summary>405: the route exists, the method does not.</summary>
    public const string MethodNotAllowed = "G_METHOD_NOT_ALLOWED";

    /// <summary>413: the body is larger than the cap.</summary>
    public const string PayloadTooLarge = "G_PAYLOAD_TOO_LARGE";

    /// <summary>415: the body is not <c>application/json</c>.</summary>
    public const string UnsupportedMediaType = "G_UNSUPPORTED_MEDIA_TYPE";

    /// <summary>404: unknown user.</summary>
    public const string UserNotFound = "USER_NOT_FOUND";

    /// <summary>404: unknown user (point routes, the seed's code).</summary>
    public const string UserPointNotFound = "USERPOINT_NOT_FOUND";

    /// <summary>404: a transfer's receiver (<c>toUserId</c>) is unknown; an unknown sender is <see cref="UserPointNotFound"/>.</summary>
    public const string ReceiverNotFound = "USERPOINT_RECEIVER_NOT_FOUND";

    /// <summary>409: a use (or a transfer) larger than the balance.</summary>
    public const string InsufficientBalance = "USERPOINT_INSUFFICIENT_BALANCE";

    /// <summary>409: the balance (a transfer's receiver's) would exceed the maximum.</summary>
    public const string AmountOverflow = "USERPOINT_AMOUNT_OVERFLOW";

    /// <summary>409: the refunded transaction is not a use of this user.</summary>
    public const string TransactionNotFound = "USERPOINT_TRANSACTION_NOT_FOUND";

    /// <summary>409: the use was already refunded.</summary>
    public const string AlreadyRefunded = "USERPOINT_ALREADY_REFUNDED";

    /// <summary>409: the idempotency key was used with a different request.</summary>
    public const string IdempotencyConflict = "IDEMPOTENCY_CONFLICT";

    /// <summary>409: the first request with this idempotency key is still running (after a bounded wait).</summary>
    public const string IdempotencyInProgress = "IDEMPOTENCY_IN_PROGRESS";

    /// <summary>503: the lock was not acquired within the wait timeout (or optimistic retries ran out).</summary>
    public const string LockTimeout = "LOCK_TIMEOUT";

    /// <summary>503: the lock service could not be reached.</summary>
    public const string LockUnavailable = "LOCK_UNAVAILABLE";

    /// <summary>503: a lock was lost while the work ran; nothing was committed.</summary>
    public const string LockLeaseLost = "LOCK_LEASE_LOST";

    /// <summary>503: the database could not be reached.</summary>
    public const string DatabaseUnavailable = "G_DATABASE_UNAVAILABLE";

    /// <summary>503: the connection broke while the write was committing; it may or may not have been applied (retry with the same Idempotency-Key).</summary>
    public const string OutcomeUnknown = "G_OUTCOME_UNKNOWN";

    /// <summary>500: a bug; no client input is meant to reach it.</summary>
    public const string ServerError = "G_SERVER_ERROR";
}
