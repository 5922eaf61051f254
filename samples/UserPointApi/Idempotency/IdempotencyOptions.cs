namespace UserPointApi.Idempotency;

/// <summary>The <c>Idempotency</c> configuration section.</summary>
public sealed class IdempotencyOptions
{
    public const string Section = "Idempotency";

    /// <summary>Gets or sets how long a duplicate waits for the first request with its key to finish before it gets 409 IDEMPOTENCY_IN_PROGRESS.</summary>
    /// <value>Default: 10,000 ms.</value>
    public int WaitMs { get; set; } = 10_000;

    /// <summary>Gets or sets after how long an unfinished claim (its instance died) may be taken over by a duplicate.</summary>
    /// <value>Default: 60 s; longer than any write can run.</value>
    public int AbandonedAfterSeconds { get; set; } = 60;
}
