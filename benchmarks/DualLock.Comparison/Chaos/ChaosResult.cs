namespace DualLock.Comparison.Chaos;

/// <summary>One second of the load (answers counted when they arrive, offered when sent).</summary>
internal sealed record SecondRow(
    int Second, int Offered, int Ok, IReadOnlyDictionary<string, int> Unavailable, int OtherErrors, int Timeouts, int ConnectionErrors, double P50Ms, double P99Ms, string Marks);

/// <summary>A phase of a fault (between two of its steps), measured.</summary>
internal sealed record PhaseResult(
    string Name, double StartSeconds, double EndSeconds, double AckPerSecond, double RatioToBefore, int Unavailable, IReadOnlyDictionary<string, int> UnavailableByCode, double? P99UnavailableOnceKnownMs, int UnavailableOnceKnown)
{
    /// <summary>Gets the p99 of the server's own time (Server-Timing) for the same 503s: what is left once queueing on the machine is taken out.</summary>
    public double? P99UnavailableOnceKnownServerMs { get; init; }
}

/// <summary>What the oracle found for one user; <paramref name="Suspects"/> names the requests whose amount matches a loss or an invention.</summary>
internal sealed record UserCheck(string UserId, long Acknowledged, long AmbiguousCredit, long AmbiguousDebit, long Stored, long LedgerSum, long Lost, long Invented, bool AuditConsistent)
{
    public string Suspects { get; init; } = "";
}

/// <summary>One fault against one strategy: the timeline, the fault's measures and the oracle's verdict.</summary>
internal sealed record ChaosResult
{
    public required string Fault { get; init; }

    public required string Strategy { get; init; }

    public required IReadOnlyDictionary<string, string> Settings { get; init; }

    public required IReadOnlyList<(double AtSeconds, string Action)> Steps { get; init; }

    public required IReadOnlyList<SecondRow> Timeline { get; init; }

    public required IReadOnlyList<PhaseResult> Phases { get; init; }

    public required IReadOnlyList<UserCheck> Users { get; init; }

    public long Requests { get; init; }

    public long Acknowledged { get; init; }

    public long Ambiguous { get; init; }

    /// <summary>Gets the acknowledged writes per second before the first fault (the first second, warm-up, left out).</summary>
    public double AckPerSecondBefore { get; init; }

    /// <summary>Gets the acknowledged writes per second from the first step of the fault to its end.</summary>
    public double? AckPerSecondDuringFault { get; init; }

    /// <summary>Gets the 99th percentile of the 503s sent at least 1 s after the fault began and before it ended ("once the outage is known").</summary>
    public double? P99UnavailableOnceKnownMs { get; init; }

    /// <summary>Gets the 99th percentile of the server's own time (Server-Timing) for the same 503s.</summary>
    public double? P99UnavailableOnceKnownServerMs { get; init; }

    /// <summary>Gets how many 503s a second were answered once the fault was known (a closed loop answered fast asks again at once).</summary>
    public double? UnavailableOnceKnownPerSecond { get; init; }

    /// <summary>Gets the cores the load generator and the two instances used once the fault was known (the machine has 2).</summary>
    public (double Generator, double Instances)? CoresOnceKnown { get; init; }

    /// <summary>Gets the milliseconds from the end of the fault to the first 1 s window with &gt;= 80 % of the rate before; null: never within the run.</summary>
    public double? RecoveryMs { get; init; }

    /// <summary>Gets the 503 LOCK_LEASE_LOST answers that arrived after the fault ended (after Redis came back empty, after the pause).</summary>
    public int LeaseLostAfterFault { get; init; }

    public IReadOnlyDictionary<string, int> ErrorsByCode { get; init; } = new Dictionary<string, int>();

    /// <summary>Gets the first instance's lock health read every 200 ms during the load (<see cref="HealthSampler"/>).</summary>
    public IReadOnlyList<HealthSample> Health { get; init; } = [];

    /// <summary>Gets the distinct lock-health answers from 1 s into the fault to its end, in the order first seen.</summary>
    public IReadOnlyList<string> HealthDuringFault => Steps.Count < 2
        ? []
        : [.. Health.Where(h => h.At >= Steps[0].AtSeconds + 1 && h.At <= Steps[^1].AtSeconds).Select(h => h.Status).Distinct()];

    /// <summary>Gets the last lock-health answer of the load (the observation after the fault), or <see langword="null"/>.</summary>
    public string? HealthAtEnd => Health.Count > 0 ? Health[^1].Status : null;

    public long LostPoints => Users.Sum(u => u.Lost);

    public long InventedPoints => Users.Sum(u => u.Invented);

    public int UsersLost => Users.Count(u => u.Lost > 0);

    public int UsersInvented => Users.Count(u => u.Invented > 0);

    public int AuditsInconsistent => Users.Count(u => !u.AuditConsistent);

    public bool LostOrInvented => UsersLost > 0 || UsersInvented > 0 || AuditsInconsistent > 0;

    public string Oracle => LostOrInvented
        ? $"LOST {LostPoints} points ({UsersLost} users), INVENTED {InventedPoints} ({UsersInvented} users), {AuditsInconsistent} audits inconsistent"
        : Ambiguous > 0 ? $"exact within {Ambiguous} ambiguous requests" : "exact";
}
