namespace DualLock.Comparison.Chaos;

/// <summary>Turns the request records of one run into the per-second timeline and the fault's measures.</summary>
internal static class Timeline
{
    /// <summary>The share of the rate before the fault that counts as recovered.</summary>
    public const double RecoveredShare = 0.8;

    /// <summary>503s in the first second of a fault are left out of its p99: the outage is not known yet.</summary>
    public const double KnownAfterSeconds = 1;

    public static IReadOnlyList<SecondRow> PerSecond(IReadOnlyList<RequestRecord> records, IReadOnlyList<(double At, string Action)> steps, double length)
    {
        var rows = new List<SecondRow>();
        for (var s = 0; s < Math.Ceiling(length); s++)
        {
            var done = records.Where(r => r.End >= s && r.End < s + 1).ToList();
            var latencies = done.Select(r => r.LatencyMs).Order().ToArray();
            rows.Add(new SecondRow(
                s,
                records.Count(r => r.Start >= s && r.Start < s + 1),
                done.Count(r => r.Status == 200),
                done.Where(r => r.Status == 503).GroupBy(r => r.Code).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
                done.Count(r => r.Status is not (0 or 200 or 503)),
                done.Count(r => r.Code == "CLIENT_TIMEOUT"),
                done.Count(r => r.Status == 0 && r.Code != "CLIENT_TIMEOUT"),
                Percentile(latencies, 50),
                Percentile(latencies, 99),
                string.Join("; ", steps.Where(x => x.At >= s && x.At < s + 1).Select(x => $"{x.Action} at {x.At:0.0}s"))));
        }

        return rows;
    }

    public static double AckRate(IReadOnlyList<RequestRecord> records, double from, double to)
        => to > from ? records.Count(r => r.Status == 200 && r.End >= from && r.End < to) / (to - from) : 0;

    /// <summary>The rate before the fault, the first second (warm-up) left out when there is time for it.</summary>
    public static double RateBefore(IReadOnlyList<RequestRecord> records, double faultStart)
        => AckRate(records, faultStart > 1.5 ? 1 : 0, faultStart);

    public static PhaseResult Phase(IReadOnlyList<RequestRecord> records, string name, double from, double to, double before)
    {
        var unavailable = records.Where(r => r.Status == 503 && r.Start >= from && r.Start < to).ToList();
        var onceKnown = unavailable.Where(r => r.Start >= from + KnownAfterSeconds).ToList();
        var known = onceKnown.Select(r => r.LatencyMs).Order().ToArray();
        var server = onceKnown.Where(r => r.ServerMs is not null).Select(r => r.ServerMs!.Value).Order().ToArray();
        var rate = AckRate(records, from, to);
        return new PhaseResult(
            name,
            from,
            to,
            rate,
            before > 0 ? rate / before : 0,
            unavailable.Count,
            unavailable.GroupBy(r => r.Code).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            known.Length > 0 ? Percentile(known, 99) : null,
            known.Length)
        {
            P99UnavailableOnceKnownServerMs = server.Length > 0 ? Percentile(server, 99) : null,
        };
    }

    /// <summary>Milliseconds from <paramref name="faultEnd"/> to the start of the first 1 s window with at least 80 % of the rate before.</summary>
    public static double? RecoveryMs(IReadOnlyList<RequestRecord> records, double faultEnd, double length, double before)
    {
        var acks = records.Where(r => r.Status == 200 && r.End >= faultEnd).Select(r => r.End).Order().ToArray();
        var need = RecoveredShare * before;
        for (var t = faultEnd; t + 1 <= length; t += 0.05)
        {
            var from = Array.BinarySearch(acks, t);
            var to = Array.BinarySearch(acks, t + 1);
            if ((to < 0 ? ~to : to) - (from < 0 ? ~from : from) >= need)
            {
                return (t - faultEnd) * 1000;
            }
        }

        return null;
    }

    public static double Percentile(double[] sorted, double percentile)
        => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
