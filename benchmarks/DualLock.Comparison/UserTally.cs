namespace DualLock.Comparison;

/// <summary>
/// The oracle's record of one user: what the server acknowledged and what is unknown. The final
/// balance must lie in [initial + acknowledged, initial + acknowledged + ambiguous]; below is a
/// lost update, above is a write nobody asked for.
/// </summary>
internal sealed class UserTally(string userId)
{
    private long _acknowledged;
    private long _ambiguous;
    private long _acknowledgedCount;

    public string UserId { get; } = userId;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Ambiguous => Interlocked.Read(ref _ambiguous);

    public long AcknowledgedCount => Interlocked.Read(ref _acknowledgedCount);

    public void Record(WriteResult result, long amount)
    {
        switch (result.Outcome)
        {
            case WriteOutcome.Acknowledged:
                Interlocked.Add(ref _acknowledged, amount);
                Interlocked.Increment(ref _acknowledgedCount);
                break;
            case WriteOutcome.Ambiguous:
                Interlocked.Add(ref _ambiguous, amount);
                break;
        }
    }
}
