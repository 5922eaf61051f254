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

    /// <summary>Gets cold vs warm: the warm-up, the first 5 s and the rest, per second, with GC and JIT counters.</summary>
    public LatencyPhases Phases { get; init; } = new();

    public bool LostUpdates => UsersWithLostUpdates > 0 || UsersWithPhantomWrites > 0 || AuditInconsistentUsers > 0;

    public string Verdict => LostUpdates
        ? $"LOST UPDATES: {UsersWithLostUpdates} users short by {LostAmount} points, {UsersWithPhantomWrites} over, {AuditInconsistentUsers} audits inconsistent"
        : Ambiguous > 0 ? $"no loss ({Ambiguous} ambiguous requests widen the bound)" : "exact";
}

/// <summary>What a run's latency is made of: phases, seconds, the generator's lag, the server's own time, GC and JIT.</summary>
internal sealed record LatencyPhases
{
    /// <summary>Gets the length of the recorded warm-up before the measured phase (0: none, the table's figures include the cold start).</summary>
    public double WarmUpSeconds { get; init; }

    public PhaseStats? WarmUp { get; init; }

    public long WarmUpErrors { get; init; }

    public PhaseStats? Measured { get; init; }

    public PhaseStats? First5s { get; init; }

    public PhaseStats? After5s { get; init; }

    public IReadOnlyList<SecondStats> PerSecond { get; init; } = [];

    public IReadOnlyList<SecondStats> WarmUpPerSecond { get; init; } = [];

    /// <summary>Gets the instances' GC and JIT during the measured phase (summed over instances).</summary>
    public RuntimeCounters Server { get; init; } = RuntimeCounters.Zero;

    /// <summary>Gets the load generator's own GC and JIT during the measured phase.</summary>
    public RuntimeCounters Generator { get; init; } = RuntimeCounters.Zero;

    public RuntimeCounters WarmUpServer { get; init; } = RuntimeCounters.Zero;

    public RuntimeCounters WarmUpGenerator { get; init; } = RuntimeCounters.Zero;
}
