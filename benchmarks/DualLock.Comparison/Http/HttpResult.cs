namespace DualLock.Comparison.Http;

/// <summary>One measured wrk run against one target in one scenario.</summary>
internal sealed record HttpResult
{
    public required string Target { get; init; }

    public required string Scenario { get; init; }

    public int Run { get; init; }

    public double RequestsPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P90Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public long Requests { get; init; }

    public long Non2xx { get; init; }

    public long SocketErrors { get; init; }

    /// <summary>The server process's CPU time per answered request (user + system), in microseconds.</summary>
    public double ServerCpuUsPerRequest { get; init; }

    /// <summary>The server's CPU time over the run's wall time (1.0 = one core busy).</summary>
    public double ServerCores { get; init; }

    /// <summary>wrk's own CPU time over the run's wall time (1.0 = one core busy): the generator's share of the 2 cores.</summary>
    public double WrkCores { get; init; }
}

/// <summary>The stored sums against the acknowledged charges of one target (all its wrk runs), and what it cost in statements.</summary>
internal sealed record HttpTargetCheck
{
    public required string Target { get; init; }

    public int Run { get; init; }

    public long Acknowledged { get; init; }

    /// <summary>Charges that may have committed without an answer: wrk stops with up to one request per connection in flight.</summary>
    public long InFlightAtStops { get; init; }

    public long Stored { get; init; }

    public bool MayLoseUpdates { get; init; }

    public bool Lost => Stored < Acknowledged;

    public bool Phantom => Stored > Acknowledged + InFlightAtStops;

    public string Verdict => Lost
        ? $"{Acknowledged - Stored} acknowledged charges lost{(MayLoseUpdates ? " (expected: no lock)" : " - LOST UPDATES")}"
        : Phantom ? $"{Stored - Acknowledged} more stored than acknowledged + in flight" : "exact (stored within acknowledged + in flight)";

    public IReadOnlyDictionary<string, double>? StatementsPerCharge { get; init; }

    public IReadOnlyDictionary<string, double>? RedisCommandsPerCharge { get; init; }
}
