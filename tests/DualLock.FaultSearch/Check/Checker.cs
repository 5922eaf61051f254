using System.Globalization;
using DualLock.FaultSearch.Witness;
using DualLock.FaultSearch.Workload;

namespace DualLock.FaultSearch.Check;

/// <summary>The run's evidence: the workers' histories and probes, the ledger, the witness.</summary>
internal sealed record RunEvidence(
    IReadOnlyList<CallRecord> Calls,
    IReadOnlyList<ProbeRecord> Probes,
    LedgerSnapshot Ledger,
    IReadOnlyDictionary<string, WitnessCall> WitnessCalls,
    IReadOnlyList<WitnessSnapshot> Crowds);

/// <summary>
/// Checks the invariants on the history. Every check compares two independent records (the caller's
/// outcome, the ledger, the witness), so none can pass by construction: the negative control (no lock)
/// must break exclusion and lose updates, or the run is reported as unproven.
/// </summary>
internal static class Checker
{
    /// <summary>
    /// Slack on every bound: this machine's 2 cores are shared with other builds, and a thread-pool or GC
    /// pause of a second was seen on idle runs; 2 s keeps a real hang (a wait that ignores its bound) visible.
    /// </summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The release bound: the library's Redis call bound (RedisLockOptions.OperationTimeout, 1 s) for the
    /// unlock, and the commit, which no option bounds (the pool's command timeout is 30 s).
    /// </summary>
    public static readonly TimeSpan ReleaseBound = TimeSpan.FromSeconds(1);

    public static IReadOnlyList<Finding> Check(RunEvidence evidence, IReadOnlyList<StrategySpec> strategies)
    {
        var findings = new FindingSet();
        var rowsByCall = evidence.Ledger.Rows.ToLookup(r => r.CallId);
        // A holder whose call failed with LockLeaseLostException was told, by the library, that its lease ran out while its
        // work ran (a paused or starved process) and that what it wrote without a transaction was not protected: the one
        // thing a lease can promise (docs/failures.md). Its write counts for the ledger checks, not against exclusion or
        // token order; a lease lost unnoticed ends "applied" and still counts (and is lost-lease-applied when seen).
        var toldLost = evidence.Calls.Where(c => c.Outcome == CallRecord.Failed && c.Error?.EndsWith("LockLeaseLostException", StringComparison.Ordinal) == true)
            .Select(c => c.Holder).ToHashSet();
        var committedHolders = evidence.Ledger.Rows.Select(r => r.Holder).Where(h => !toldLost.Contains(h)).ToHashSet();
        var specs = strategies.ToDictionary(s => s.Name);

        Exclusion(evidence, specs, committedHolders, findings);
        Outcomes(evidence.Calls, rowsByCall, findings);
        Tokens(evidence, specs, toldLost, findings);
        HandOffs(evidence.Calls, specs, findings);
        Counters(evidence, findings);
        Bounds(evidence.Calls, findings);
        NoFallback(evidence.Calls, specs, findings);
        foreach (var probe in evidence.Probes.Where(p => !p.Acquired))
        {
            findings.Add(Finding.Wedge, probe.Strategy, $"{probe.KeyId} not acquired by pid {probe.Pid} within 1 s ({probe.Ms:0} ms) after the faults stopped and the leases ran out{(probe.Error is null ? string.Empty : ": " + probe.Error)}{(probe.AcquiredLater == true ? "; acquired by a second probe 3 s later (slow, not held for good)" : "; a second probe 3 s later did not acquire it either (held for good)")}");
        }

        return findings.ToList();
    }

    private static void Exclusion(RunEvidence evidence, Dictionary<string, StrategySpec> specs, HashSet<string> committed, FindingSet findings)
    {
        // Only holders whose writes committed count: a holder whose transaction was refused or rolled back
        // (a killed session, a fence) was inside the witness but changed nothing, which is what fencing is for.
        foreach (var crowd in evidence.Crowds)
        {
            var inside = crowd.CallIds.Where(committed.Contains).Select(id => evidence.WitnessCalls[WitnessServer.Id(id, crowd.Key)]).ToList();
            if (inside.Count < 2)
            {
                continue;
            }

            var strategy = StrategyOf(inside[0].CallId);
            var permits = inside[0].Kind.StartsWith('s') ? int.Parse(inside[0].Kind[1..], CultureInfo.InvariantCulture) : 1;
            var violated = inside.All(c => c.Kind == "r") ? false
                : inside.Any(c => c.Kind is "w" or "x") || inside.Count > permits;
            if (violated && specs.ContainsKey(strategy))
            {
                findings.Add(Finding.Exclusion, strategy, $"{crowd.Key}: {inside.Count} committed holders inside at once ({string.Join(", ", inside.Select(c => c.CallId + ":" + c.Kind))}), allowed {permits}");
            }
        }
    }

    private static void Outcomes(IReadOnlyList<CallRecord> calls, ILookup<string, LedgerRow> rowsByCall, FindingSet findings)
    {
        foreach (var call in calls)
        {
            var rows = rowsByCall[call.Id].Count();
            switch (call.Outcome)
            {
                case CallRecord.Applied when rows == 0:
                    findings.Add(Finding.AppliedMissing, call.Strategy, $"{call.Id} reported applied, no ledger row");
                    break;
                case CallRecord.Applied when call.LeaseLostSeen:
                    findings.Add(Finding.LostLeaseApplied, call.Strategy, $"{call.Id} saw its lease lost when its work returned, yet was reported applied");
                    break;
                case CallRecord.Applied when rows > call.KeyIds.Length:
                    findings.Add(Finding.AppliedTwice, call.Strategy, $"{call.Id} reported applied, {rows} ledger rows for {call.KeyIds.Length} key(s)");
                    break;
                case CallRecord.Failed when rows > 0 && CommitCut(call):
                    // The commit's connection broke: the outcome is unknown, but the error does not say so.
                    findings.Add(Finding.CommitOutcomeUnsaid, call.Strategy, $"{call.Id} threw {call.Error} after its work returned, and committed: {call.Message}");
                    break;
                case CallRecord.Failed when rows > 0 && !OutcomeUnknown(call.Error, call.Message):
                    findings.Add(Finding.FailedButApplied, call.Strategy, $"{call.Id} threw {call.Error} ({(call.WorkReturned ? "after its work returned" : "during its work")}) but committed: {call.Message}");
                    break;
            }
        }
    }

    /// <summary>
    /// An error that says the outcome is unknown may leave a row; no other may. A lease lost in a pipeline without a
    /// transaction says the work ran unprotected (its write was its own autocommit): that is such an error.
    /// </summary>
    private static bool OutcomeUnknown(string? error, string? message)
        => error is not null && (error.Contains("OutcomeUnknown", StringComparison.Ordinal)
            || (error.EndsWith("LockLeaseLostException", StringComparison.Ordinal) && message?.Contains("not protected by the lock", StringComparison.Ordinal) == true));

    /// <summary>A database error after the work returned, in a strategy whose transaction commits after it: the commit's connection was cut.</summary>
    private static bool CommitCut(CallRecord call)
        => call.WorkReturned && call.Error is { } error
            && (error.EndsWith("MySqlException", StringComparison.Ordinal) || error.EndsWith("NpgsqlException", StringComparison.Ordinal) || error.EndsWith("PostgresException", StringComparison.Ordinal));

    private static void Tokens(RunEvidence evidence, Dictionary<string, StrategySpec> specs, HashSet<string> toldLost, FindingSet findings)
    {
        foreach (var key in evidence.Ledger.Rows.Where(r => r.Token is not null && specs.TryGetValue(r.Strategy, out var s) && s.TokensOrdered).GroupBy(r => r.KeyId))
        {
            LedgerRow? previous = null;
            foreach (var row in key)
            {
                // A holder whose Redis key a fault deleted is excused: the next holder's token is higher and it may still write after it.
                if (toldLost.Contains(row.Holder) || (evidence.WitnessCalls.TryGetValue(WitnessServer.Id(row.Holder, row.KeyId), out var seen) && seen.Revoked))
                {
                    continue;
                }

                if (previous is not null && row.Token <= previous.Token)
                {
                    findings.Add(Finding.TokenOrder, row.Strategy, $"{key.Key}: {row.CallId} committed token {row.Token} after {previous.CallId} committed {previous.Token}");
                }

                previous = row;
            }
        }
    }

    /// <summary>
    /// A lease its process knows is lost is never handed on: once a holder of it was refused by the fence (a newer
    /// holder wrote through) or saw the Redis stage report it lost, no later local holder gets that lease. The
    /// tokens name the lease (the Redis fence times 64) and the hand-off (plus one each), so a later token of the
    /// same lease after such a loss is a hand-off of a lease known lost. Only losses the Redis stage itself knows
    /// count: a loss reported by another stage (the transaction's) leaves the Redis lease rightly in use.
    /// </summary>
    private static void HandOffs(IReadOnlyList<CallRecord> calls, Dictionary<string, StrategySpec> specs, FindingSet findings)
    {
        foreach (var strategy in calls.Where(c => specs.TryGetValue(c.Strategy, out var s) && s.HandsOff).GroupBy(c => c.Strategy))
        {
            var losses = new Dictionary<long, (long Index, string CallId)>();
            foreach (var call in strategy)
            {
                if (LostAt(call) is not { } token)
                {
                    continue;
                }

                var lease = token / LeaseTokens;
                if (!losses.TryGetValue(lease, out var known) || token % LeaseTokens < known.Index)
                {
                    losses[lease] = (token % LeaseTokens, call.Id);
                }
            }

            foreach (var call in strategy)
            {
                var token = call.Token ?? call.RefusedToken;
                if (token is { } t && losses.TryGetValue(t / LeaseTokens, out var loss) && t % LeaseTokens > loss.Index)
                {
                    findings.Add(Finding.HandedOnAfterLoss, strategy.Key, $"{call.Id} got token {t} (hand-off {t % LeaseTokens} of lease {t / LeaseTokens}) after {loss.CallId}, hand-off {loss.Index} of that lease, lost it");
                }
            }
        }
    }

    /// <summary>How many tokens one Redis fence spans (DualLock.Redis' RedisFencingTokens.Scale).</summary>
    private const long LeaseTokens = 64;

    /// <summary>The token of a holder whose own Redis lease was known lost to its process: refused by the fence, or the Redis stage reported the loss.</summary>
    private static long? LostAt(CallRecord call)
        => call.RefusedToken ?? (call.LeaseLostSeen && call.LeaseLostStage == "redis" ? call.Token : null);

    private static void Counters(RunEvidence evidence, FindingSet findings)
    {
        foreach (var key in evidence.Ledger.Rows.Where(r => r.Kind is "x" or "w").GroupBy(r => r.KeyId))
        {
            // A holder a fault took the lock from may lose an update to the next one: that key proves nothing.
            if (key.Any(r => evidence.WitnessCalls.TryGetValue(WitnessServer.Id(r.Holder, r.KeyId), out var seen) && seen.Revoked))
            {
                continue;
            }

            var counted = evidence.Ledger.Counters.GetValueOrDefault(key.Key);
            if (counted != key.Count())
            {
                findings.Add(Finding.LostUpdate, key.First().Strategy, $"{key.Key}: counter {counted}, committed writers {key.Count()}");
            }
        }
    }

    /// <summary>
    /// A strategy whose Redis part is optional must go on under its database lock when Redis refuses or fails:
    /// a call that never got in and threw the Redis client's own exception, or any exception naming one of the
    /// refusals the proxy answers (all of them write refusals or outages, to be gone around), did not fall back.
    /// </summary>
    private static void NoFallback(IReadOnlyList<CallRecord> calls, Dictionary<string, StrategySpec> specs, FindingSet findings)
    {
        foreach (var call in calls.Where(c => c.Outcome == CallRecord.Failed && c.EnteredMs is null && c.Error is { } e
            && (e.StartsWith("Redis", StringComparison.Ordinal) || (!e.StartsWith("Lock", StringComparison.Ordinal) && NamesInjectedRefusal(c.Message)))))
        {
            if (specs.TryGetValue(call.Strategy, out var spec) && spec.FallsBack)
            {
                findings.Add(Finding.NoFallback, call.Strategy, $"{call.Id} failed with {call.Error} instead of going on under the row lock: {call.Message}");
            }
        }
    }

    private static bool NamesInjectedRefusal(string? message)
        => message is not null && (message.Contains("NOREPLICAS", StringComparison.Ordinal) || message.Contains("READONLY", StringComparison.Ordinal)
            || message.Contains("OOM", StringComparison.Ordinal) || message.Contains("BUSY", StringComparison.Ordinal));

    private static void Bounds(IReadOnlyList<CallRecord> calls, FindingSet findings)
    {
        var acquireBound = (StrategyFactory.Wait + Slack).TotalMilliseconds;
        var releaseBound = (ReleaseBound + Slack).TotalMilliseconds;
        foreach (var call in calls.Where(c => c.Outcome != CallRecord.HarnessError))
        {
            if (call.EnteredMs is { } entered)
            {
                if (entered > acquireBound)
                {
                    findings.Add(Finding.OverWait, call.Strategy, $"{call.Id} got in after {entered:0} ms (bound {acquireBound:0})");
                }

                if (call.ExitingMs is { } exiting && call.EndMs - exiting > releaseBound)
                {
                    findings.Add(Finding.OverWait, call.Strategy, $"{call.Id} returned {call.EndMs - exiting:0} ms after its work ({call.Outcome} {call.Error}; bound {releaseBound:0})");
                }
            }
            else if (call.EndMs > acquireBound + releaseBound)
            {
                // A call that never got in may also have released a partly acquired pipeline.
                findings.Add(Finding.OverWait, call.Strategy, $"{call.Id} gave up after {call.EndMs:0} ms ({call.Error}; bound {acquireBound + releaseBound:0})");
            }
        }
    }

    private static string StrategyOf(string holder)
    {
        // Holder ids are "<pid>-<strategy>-<client>-<n>" (a batch: "b" + its first call's id).
        var parts = holder.Split('-');
        return string.Join('-', parts[1..^2]);
    }
}
