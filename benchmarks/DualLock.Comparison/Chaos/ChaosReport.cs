using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace DualLock.Comparison.Chaos;

/// <summary>One row of the issue's table: the target, what this run measured, met or missed (null: its runs were not part of this suite).</summary>
internal sealed record TargetVerdict(string Fault, string Target, string Measured, bool? Met);

/// <summary>The suite's outcome: the targets, the safety verdicts and the exit code.</summary>
internal sealed record SuiteVerdict(IReadOnlyList<TargetVerdict> Targets, IReadOnlyList<string> Safety, int ExitCode);

/// <summary>Writes results.json and results.md and prints the summary of the chaos suite.</summary>
internal static class ChaosReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, IncludeFields = true };

    private static readonly string[] Columns =
    [
        "fault", "strategy", "ack/s before", "ack/s during fault", "503s during fault", "503 p99 once known, server / client (ms)", "recovery (ms)",
        "LEASE_LOST after fault", "ambiguous", "lost", "invented", "oracle",
    ];

    public static string OneLine(ChaosResult r)
        => string.Create(Invariant, $"  {r.Fault}/{r.Strategy}: {r.AckPerSecondBefore:0} ack/s before, {Opt(r.AckPerSecondDuringFault, "0")} during, ")
           + string.Create(Invariant, $"503 p99 once known server/client {ServerClient(r.P99UnavailableOnceKnownServerMs, r.P99UnavailableOnceKnownMs)} ms, recovery {Opt(r.RecoveryMs, "0")} ms, LEASE_LOST after {r.LeaseLostAfterFault}; oracle: {r.Oracle}")
           + string.Concat(r.Users.Where(u => u.Suspects.Length > 0).Select(u => $"\n    user {u.UserId[..8]}: {u.Suspects}"));

    public static SuiteVerdict Judge(IReadOnlyList<ChaosResult> results)
    {
        ChaosResult? Find(string fault, string strategy) => results.FirstOrDefault(r => r.Fault == fault && r.Strategy == strategy);
        var targets = new List<TargetVerdict>();

        var dual = Find("redis-kill", "dual");
        var pessimistic = Find("redis-kill", "pessimistic");
        targets.Add(dual is null || pessimistic is null
            ? new("redis-kill", "dual: ack/s during the outage >= 0.8x pessimistic's in the same run", "not run", null)
            : Ratio("redis-kill", "dual: ack/s during the outage >= 0.8x pessimistic's in the same run", dual.AckPerSecondDuringFault, pessimistic.AckPerSecondDuringFault, 0.8));

        var distributed = Find("redis-kill", "distributed");
        targets.Add(FailFast("redis-kill", "distributed", distributed));
        foreach (var strategy in new[] { "dual", "distributed" })
        {
            var r = Find("redis-kill", strategy);
            targets.Add(r is null
                ? new("redis-kill", $"{strategy}: after Redis restarts empty, 0 refused (LOCK_LEASE_LOST) and 0 lost", "not run", null)
                : new("redis-kill", $"{strategy}: after Redis restarts empty, 0 refused (LOCK_LEASE_LOST) and 0 lost",
                    $"{r.LeaseLostAfterFault} LOCK_LEASE_LOST, {r.LostPoints} lost, {r.InventedPoints} invented", r.LeaseLostAfterFault == 0 && !r.LostOrInvented));
        }

        // The health checks (DualLock.AspNetCore, /health/locks) must tell an orchestrator what happened: asserted, not only reported.
        foreach (var (strategy, expected) in new[] { ("dual", "Degraded"), ("distributed", "Unhealthy") })
        {
            var r = Find("redis-kill", strategy);
            var target = $"{strategy}: lock health {expected} while Redis is down, Healthy after it is back";
            targets.Add(r is null
                ? new("redis-kill", target, "not run", null)
                : new("redis-kill", target,
                    $"during the fault: {string.Join(", ", r.HealthDuringFault.DefaultIfEmpty("no sample"))}; at the end: {r.HealthAtEnd ?? "no sample"}",
                    r.HealthDuringFault.Contains(expected) && r.HealthAtEnd == "Healthy"));
        }

        var mysql = Find("mysql-kill", "dual");
        targets.Add(mysql is null
            ? new("mysql-kill", "dual: 0 lost, recovered < 1 s after the restart", "not run", null)
            : new("mysql-kill", "dual: 0 lost, recovered < 1 s after the restart",
                $"{mysql.LostPoints} lost, {mysql.InventedPoints} invented, recovery {Opt(mysql.RecoveryMs, "0")} ms", !mysql.LostOrInvented && mysql.RecoveryMs < 1000));

        // The issue asks that postgres-kill hold (nothing lost or invented); the recovery time is reported, not a target.
        var postgres = Find("postgres-kill", "dual");
        targets.Add(postgres is null
            ? new("postgres-kill", "dual: 0 lost, 0 invented", "not run", null)
            : new("postgres-kill", "dual: 0 lost, 0 invented",
                $"{postgres.LostPoints} lost, {postgres.InventedPoints} invented, recovery {Opt(postgres.RecoveryMs, "0")} ms", !postgres.LostOrInvented));

        var hang = Find("redis-hang", "distributed");
        targets.Add(FailFast("redis-hang", "distributed", hang) with { Target = "distributed: 503 p99 <= 10 ms once the hang is known (same target as the kill; not in the issue's table)" });

        // A hung MariaDB answers nothing, not even an error: each write must still be answered within the sample's 2 s
        // wait (its 503s client-timed, queueing included, with 1 s of slack), not when the server resumes.
        foreach (var strategy in new[] { "pessimistic", "dual" })
        {
            var r = Find("mysql-hang", strategy);
            var target = $"{strategy}: 503 within the wait once the hang is known (client p99 <= 3,000 ms), 0 lost, 0 invented";
            targets.Add(r is null
                ? new("mysql-hang", target, "not run", null)
                : new("mysql-hang", target,
                    string.Create(Invariant, $"client p99 {Opt(r.P99UnavailableOnceKnownMs, "0")} ms over {(r.Phases.Count > 0 ? r.Phases[0].UnavailableOnceKnown : 0)} 503s once known ({(r.Phases.Count > 0 ? Codes(r.Phases[0].UnavailableByCode) : "none")} in all); {r.LostPoints} lost, {r.InventedPoints} invented, {r.Ambiguous} ambiguous"),
                    !r.LostOrInvented && r.P99UnavailableOnceKnownMs <= 3000));
        }

        foreach (var strategy in new[] { "distributed", "dual" })
        {
            var r = Find("api-pause", strategy);
            targets.Add(r is null
                ? new("api-pause", $"{strategy}: 0 lost with a holder paused past its lease", "not run", null)
                : new("api-pause", $"{strategy}: 0 lost with a holder paused past its lease",
                    $"{r.LostPoints} lost, {r.InventedPoints} invented, {r.AuditsInconsistent} audits inconsistent; {r.LeaseLostAfterFault} LOCK_LEASE_LOST after the pause", !r.LostOrInvented));
        }

        var redlock = Find("redlock-nodes", "redlock");
        var one = redlock?.Phases.FirstOrDefault(p => p.Name.StartsWith('1'));
        var two = redlock?.Phases.FirstOrDefault(p => p.Name.StartsWith('2'));
        targets.Add(one is null
            ? new("redlock-nodes", "redlock, 1 of 3 nodes down: keeps working (>= 0.8x the rate before)", "not run", null)
            : new("redlock-nodes", "redlock, 1 of 3 nodes down: keeps working (>= 0.8x the rate before)",
                string.Create(Invariant, $"{one.AckPerSecond:0} ack/s = {one.RatioToBefore:0.00}x"), one.RatioToBefore >= 0.8));
        targets.Add(two is null || redlock is null
            ? new("redlock-nodes", "redlock, 2 of 3 down: fails fast with 503 LOCK_UNAVAILABLE (p99 <= 10 ms once known), 0 lost", "not run", null)
            : new("redlock-nodes", "redlock, 2 of 3 down: fails fast with 503 LOCK_UNAVAILABLE (p99 <= 10 ms once known), 0 lost",
                string.Create(Invariant, $"{two.AckPerSecond:0} ack/s, 503s {Codes(two.UnavailableByCode)}, p99 once known: server {Opt(two.P99UnavailableOnceKnownServerMs, "0.00")} ms, client {Opt(two.P99UnavailableOnceKnownMs, "0.0")} ms; {redlock.LostPoints} lost"),
                !redlock.LostOrInvented && two.UnavailableByCode.Keys.All(k => k == "LOCK_UNAVAILABLE") && two.P99UnavailableOnceKnownServerMs <= 10));

        var safety = new List<string>();
        var exit = 0;
        foreach (var unhealthy in targets.Where(t => t.Target.Contains("lock health", StringComparison.Ordinal) && t.Met == false))
        {
            safety.Add($"{unhealthy.Fault}: the health checks did not say it: {unhealthy.Target}; measured {unhealthy.Measured}.");
            exit = exit == 0 ? 5 : exit;
        }

        foreach (var r in results)
        {
            if (r.Strategy == "none")
            {
                if (r.LostOrInvented)
                {
                    safety.Add($"{r.Fault}/none: the negative control lost updates as it must: the oracle can see a loss ({r.Oracle}).");
                }
                else
                {
                    safety.Add($"{r.Fault}/none: the negative control showed NO loss: the oracle is NOT proven by this run.");
                    exit = exit == 0 ? 3 : exit;
                }
            }
            else if (r.LostOrInvented)
            {
                safety.Add($"{r.Fault}/{r.Strategy}: {r.Oracle} under a locking strategy.");
                exit = 1;
            }
        }

        if (!results.Any(r => r.Strategy == "none"))
        {
            safety.Add("the negative control did not run: the oracle is not proven.");
            exit = exit == 0 ? 3 : exit;
        }

        if (safety.TrueForAll(s => s.Contains("negative control lost", StringComparison.Ordinal)))
        {
            safety.Add("every locking strategy: no point lost or invented under any fault, every audit consistent.");
        }

        return new SuiteVerdict(targets, safety, exit);
    }

    public static async Task<SuiteVerdict> WriteAsync(string directory, ChaosOptions options, IReadOnlyList<ChaosResult> results, TimeSpan elapsed, string? failure)
    {
        var verdict = Judge(results);
        if (failure is not null)
        {
            verdict = verdict with { Safety = [.. verdict.Safety, failure], ExitCode = 4 };
        }

        Directory.CreateDirectory(directory);
        var json = JsonSerializer.Serialize(
            new
            {
                options = options.Describe(),
                machine = $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC",
                elapsedSeconds = elapsed.TotalSeconds,
                verdict.ExitCode,
                targets = verdict.Targets,
                safety = verdict.Safety,
                results = results.Select(r => new
                {
                    r.Fault, r.Strategy, r.Settings,
                    steps = r.Steps.Select(s => new { atSeconds = s.AtSeconds, action = s.Action }),
                    r.Requests, r.Acknowledged, r.Ambiguous, r.AckPerSecondBefore, r.AckPerSecondDuringFault, r.P99UnavailableOnceKnownMs, r.P99UnavailableOnceKnownServerMs,
                    r.UnavailableOnceKnownPerSecond, coresOnceKnown = r.CoresOnceKnown is { } c ? new { generator = c.Generator, instances = c.Instances } : null,
                    r.RecoveryMs, r.LeaseLostAfterFault, r.ErrorsByCode, r.LostPoints, r.InventedPoints, r.UsersLost, r.UsersInvented, r.AuditsInconsistent, r.Oracle,
                    r.Phases, r.Users, r.Timeline,
                }),
            },
            JsonOptions);
        await File.WriteAllTextAsync(Path.Combine(directory, "results.json"), json);
        await File.WriteAllTextAsync(Path.Combine(directory, "results.md"), Markdown(options, results, verdict, elapsed));
        return verdict;
    }

    public static void Print(IReadOnlyList<ChaosResult> results, SuiteVerdict verdict)
    {
        var table = new Table { Title = new TableTitle("chaos suite") };
        foreach (var column in Columns)
        {
            table.AddColumn(new TableColumn(column) { Alignment = column is "fault" or "strategy" or "oracle" or "503s during fault" ? Justify.Left : Justify.Right });
        }

        foreach (var r in results)
        {
            var cells = Cells(r).Select(Markup.Escape).ToArray();
            var bad = r.Strategy == "none" ? !r.LostOrInvented : r.LostOrInvented;
            cells[^1] = bad ? $"[red]{cells[^1]}[/]" : $"[green]{cells[^1]}[/]";
            table.AddRow(cells);
        }

        AnsiConsole.Write(table);
        var targets = new Table { Title = new TableTitle("the issue's targets (timing targets are reported, not enforced)") };
        targets.AddColumn("fault").AddColumn("target").AddColumn("measured").AddColumn("verdict");
        foreach (var t in verdict.Targets)
        {
            targets.AddRow(Markup.Escape(t.Fault), Markup.Escape(t.Target), Markup.Escape(t.Measured), t.Met switch { true => "[green]met[/]", false => "[red]missed[/]", null => "not run" });
        }

        AnsiConsole.Write(targets);
        foreach (var line in verdict.Safety)
        {
            AnsiConsole.WriteLine(line);
        }
    }

    private static string Markdown(ChaosOptions options, IReadOnlyList<ChaosResult> results, SuiteVerdict verdict, TimeSpan elapsed)
    {
        var md = new StringBuilder();
        md.AppendLine("# Chaos suite").AppendLine();
        md.AppendLine(Invariant, $"Run: `benchmarks/chaos.sh {options.Describe()}`; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {elapsed.TotalSeconds:0} s.").AppendLine();
        md.AppendLine("Two real UserPointApi instances per row, each closed-loop client pinned to one of them, a quarter of the writes uses. ");
        md.AppendLine("The oracle, per user: stored balance within [initial + acknowledged - ambiguous uses, initial + acknowledged + ambiguous charges] ");
        md.AppendLine("(ambiguous: client timeout, connection error, 5xx other than 503, 503 G_OUTCOME_UNKNOWN) and the stored ledger summing to the balance. ");
        md.AppendLine("\"Once known\" leaves out the 503s sent in the first second of a fault; recovery is the time from the end of the fault to the first 1 s window with >= 80 % of the rate before it.").AppendLine();
        md.AppendLine("## The issue's targets").AppendLine();
        md.AppendLine("| fault | target | measured | verdict |").AppendLine("|---|---|---|---|");
        foreach (var t in verdict.Targets)
        {
            md.AppendLine(Invariant, $"| {t.Fault} | {t.Target} | {t.Measured} | {t.Met switch { true => "met", false => "**missed**", null => "not run" }} |");
        }

        md.AppendLine().AppendLine("## Safety").AppendLine();
        foreach (var line in verdict.Safety)
        {
            md.AppendLine(Invariant, $"- {line}");
        }

        md.AppendLine().AppendLine("## Summary").AppendLine();
        md.AppendLine("| " + string.Join(" | ", Columns) + " |");
        md.AppendLine("|" + string.Concat(Columns.Select(c => c is "fault" or "strategy" or "oracle" or "503s during fault" ? "---|" : "---:|")));
        foreach (var r in results)
        {
            md.AppendLine("| " + string.Join(" | ", Cells(r)) + " |");
        }

        foreach (var r in results)
        {
            md.AppendLine().AppendLine(Invariant, $"## {r.Fault} / {r.Strategy}").AppendLine();
            if (r.Settings.Count > 0)
            {
                md.AppendLine(Invariant, $"Settings: {string.Join(", ", r.Settings.Select(s => $"`{s.Key}={s.Value}`"))}. ");
            }

            md.AppendLine(Invariant, $"Steps: {(r.Steps.Count == 0 ? "none (steady load)" : string.Join("; ", r.Steps.Select(s => string.Create(Invariant, $"{s.Action} at {s.AtSeconds:0.00} s"))))}. ");
            md.AppendLine(Invariant, $"{r.Requests} requests, {r.Acknowledged} acknowledged, {r.Ambiguous} ambiguous; errors: {(r.ErrorsByCode.Count == 0 ? "none" : Codes(r.ErrorsByCode))}. Oracle: {r.Oracle}.").AppendLine();
            if (r.Phases.Count > 0)
            {
                md.AppendLine("| phase | from s | to s | ack/s | x before | 503s | 503 p99 once known, server / client (ms) |").AppendLine("|---|---:|---:|---:|---:|---|---:|");
                foreach (var p in r.Phases)
                {
                    md.AppendLine(Invariant, $"| {p.Name} | {p.StartSeconds:0.00} | {p.EndSeconds:0.00} | {p.AckPerSecond:0} | {p.RatioToBefore:0.00} | {Codes(p.UnavailableByCode)} | {ServerClient(p.P99UnavailableOnceKnownServerMs, p.P99UnavailableOnceKnownMs)} |");
                }

                md.AppendLine();
            }

            md.AppendLine("| user | acknowledged | ambiguous + | ambiguous - | stored | ledger sum | lost | invented |").AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var u in r.Users)
            {
                md.AppendLine(Invariant, $"| {u.UserId[..8]} | {u.Acknowledged} | {u.AmbiguousCredit} | {u.AmbiguousDebit} | {u.Stored} | {u.LedgerSum} | {u.Lost} | {u.Invented} |");
            }

            foreach (var u in r.Users.Where(u => u.Suspects.Length > 0))
            {
                md.AppendLine().AppendLine(Invariant, $"User {u.UserId[..8]}: the requests whose amount matches the difference: {u.Suspects}.");
            }

            md.AppendLine().AppendLine("| s | offered | 200 | 503 by code | other 4xx/5xx | timeouts | conn. errors | p50 ms | p99 ms | fault |");
            md.AppendLine("|---:|---:|---:|---|---:|---:|---:|---:|---:|---|");
            foreach (var s in r.Timeline)
            {
                md.AppendLine(Invariant, $"| {s.Second} | {s.Offered} | {s.Ok} | {(s.Unavailable.Count == 0 ? "" : Codes(s.Unavailable))} | {s.OtherErrors} | {s.Timeouts} | {s.ConnectionErrors} | {s.P50Ms:0.0} | {s.P99Ms:0.0} | {s.Marks} |");
            }
        }

        return md.ToString();
    }

    private static string[] Cells(ChaosResult r) =>
    [
        r.Fault, r.Strategy, r.AckPerSecondBefore.ToString("0", Invariant),
        r.AckPerSecondDuringFault is { } d ? string.Create(Invariant, $"{d:0} ({(r.AckPerSecondBefore > 0 ? d / r.AckPerSecondBefore : 0):0.00}x)") : "-",
        r.Phases.Count == 0 ? "-" : Codes(r.Phases.SelectMany(p => p.UnavailableByCode).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value))),
        ServerClient(r.P99UnavailableOnceKnownServerMs, r.P99UnavailableOnceKnownMs), Opt(r.RecoveryMs, "0"), r.LeaseLostAfterFault.ToString(Invariant),
        r.Ambiguous.ToString(Invariant), r.LostPoints.ToString(Invariant), r.InventedPoints.ToString(Invariant), r.Oracle,
    ];

    private static TargetVerdict Ratio(string fault, string target, double? value, double? reference, double atLeast)
        => value is { } v && reference is { } re && re > 0
            ? new(fault, target, string.Create(Invariant, $"{v:0} vs {re:0} ack/s = {v / re:0.00}x"), v / re >= atLeast)
            : new(fault, target, "no reference rate", false);

    /// <summary>
    /// Judged on the server's own time (Server-Timing): fail fast means the server answers without waiting
    /// for Redis. The client's p99 is shown beside it with the rate and the CPU, because closed-loop clients
    /// answered in microseconds ask again at once and saturate the 2 cores (generator included): past that
    /// point the client's p99 is the run queue of the machine, whatever the server does.
    /// </summary>
    private static TargetVerdict FailFast(string fault, string strategy, ChaosResult? r)
    {
        var target = $"{strategy}: 503 LOCK_UNAVAILABLE p99 <= 10 ms once the outage is known (server time; client p99 beside it)";
        if (r is null)
        {
            return new(fault, target, "not run", null);
        }

        var during = r.Phases.Count > 0 ? r.Phases[0] : null;
        var cores = r.CoresOnceKnown is { } c ? string.Create(Invariant, $"; CPU: generator {c.Generator:0.00}, instances {c.Instances:0.00} of 2 cores") : "";
        var measured = string.Create(
            Invariant,
            $"server p99 {Opt(r.P99UnavailableOnceKnownServerMs, "0.00")} ms; client p99 {Opt(r.P99UnavailableOnceKnownMs, "0.0")} ms at {Opt(r.UnavailableOnceKnownPerSecond, "0")} 503/s{cores}; over {during?.UnavailableOnceKnown ?? 0} 503s once known ({(during is null ? "-" : Codes(during.UnavailableByCode))} in all)");
        return new(fault, target, measured, r.P99UnavailableOnceKnownServerMs <= 10);
    }

    private static string Codes(IReadOnlyDictionary<string, int> codes)
        => codes.Count == 0 ? "none" : string.Join(", ", codes.Select(c => string.Create(Invariant, $"{c.Key} {c.Value}")));

    private static string ServerClient(double? server, double? client)
        => client is null ? "-" : $"{Opt(server, "0.00")} / {Opt(client, "0.0")}";

    private static string Opt(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "-";
}
