namespace DualLock.Comparison;

/// <summary>
/// The oracle's record of one user: what the server acknowledged and what is unknown. The final
/// balance must lie in [initial + acknowledged - ambiguous debits, initial + acknowledged + ambiguous
/// credits]; below is a lost update, above is a write nobody asked for. Amounts are signed: a charge
/// is positive, a use negative.
/// </summary>
internal sealed class UserTally(string userId)
{
    private long _acknowledged;
    private long _ambiguous;
    private long _ambiguousDebit;
    private long _acknowledgedCount;

    public string UserId { get; } = userId;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Gets the sum of the credits (charges) whose outcome is unknown.</summary>
    public long Ambiguous => Interlocked.Read(ref _ambiguous);

    /// <summary>Gets the sum of the debits (uses, as a positive number) whose outcome is unknown.</summary>
    public long AmbiguousDebit => Interlocked.Read(ref _ambiguousDebit);

    public long AcknowledgedCount => Interlocked.Read(ref _acknowledgedCount);

    /// <summary>Gets the lowest balance the oracle accepts (the initial balance is acknowledged like any write).</summary>
    public long Lowest => Acknowledged - AmbiguousDebit;

    /// <summary>Gets the highest balance the oracle accepts.</summary>
    public long Highest => Acknowledged + Ambiguous;

    public void Record(WriteResult result, long amount)
    {
        switch (result.Outcome)
        {
            case WriteOutcome.Acknowledged:
                Interlocked.Add(ref _acknowledged, amount);
                Interlocked.Increment(ref _acknowledgedCount);
                break;
            case WriteOutcome.Ambiguous when amount >= 0:
                Interlocked.Add(ref _ambiguous, amount);
                break;
            case WriteOutcome.Ambiguous:
                Interlocked.Add(ref _ambiguousDebit, -amount);
                break;
        }
    }
}
