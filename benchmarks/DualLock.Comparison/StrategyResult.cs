namespace DualLock.Comparison;

/// <summary>The measurements and the oracle's verdict for one strategy in one run.</summary>
internal sealed record StrategyResult
{
    public required string Strategy { get; init; }

    public int Run { get; init; }

    public int Instances { get; init; }

    public double DurationSeconds { get; init; }

    public long Requests { get; init; }

    public long Acknowledged { get; init; }

    public long Rejected { get; init; }

    public long Ambiguous { get; init; }

    /// <summary>Arrivals not started because <c>--max-in-flight</c> requests were already waiting.</summary>
    public long Dropped { get; init; }

    public double ThroughputPerSecond { get; init; }

    public double SuccessRate { get; init; }

    public double P50Ms { get; init; }

    public double P95Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public double MeanMs { get; init; }

    public IReadOnlyDictionary<string, long> ErrorsByCode { get; init; } = new Dictionary<string, long>();

    public long LockTimeouts { get; init; }

    /// <summary>The seed's check (charge's balance vs a later GET): racy by design, reported only to show its false failures.</summary>
    public long SeedRacyCheckFailures { get; init; }

    public int UsersChecked { get; init; }

    /// <summary>Users whose final balance is below initial + acknowledged: updates were lost.</summary>
    public int UsersWithLostUpdates { get; init; }

    public long LostAmount { get; init; }

    /// <summary>Users whose balance exceeds initial + acknowledged + ambiguous.</summary>
    public int UsersWithPhantomWrites { get; init; }

    /// <summary>Users whose stored ledger does not sum to their stored balance (the server's audit).</summary>
    public int AuditInconsistentUsers { get; init; }

    public bool LostUpdates => UsersWithLostUpdates > 0 || UsersWithPhantomWrites > 0 || AuditInconsistentUsers > 0;

    public string Verdict => LostUpdates
        ? $"LOST UPDATES: {UsersWithLostUpdates} users short by {LostAmount} points, {UsersWithPhantomWrites} over, {AuditInconsistentUsers} audits inconsistent"
        : Ambiguous > 0 ? $"no loss ({Ambiguous} ambiguous requests widen the bound)" : "exact";
}
