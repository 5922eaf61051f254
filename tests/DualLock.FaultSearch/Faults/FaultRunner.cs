using System.Diagnostics;
using System.Globalization;
using Dapper;
using DualLock.FaultSearch.Proxy;
using DualLock.FaultSearch.Witness;
using DualLock.FaultSearch.Workload;
using MySqlConnector;
using Npgsql;
using StackExchange.Redis;

namespace DualLock.FaultSearch.Faults;

/// <summary>
/// Plays a schedule: proxy rules, side-connection deletes and expiries (StackExchange.Redis straight to the
/// servers, never through the proxy), MariaDB kills through a side session, and a MariaDB restart with
/// scripts/services.sh (on the harness's own servers: the environment benchmarks/fault-search.sh exported).
/// </summary>
internal sealed class FaultRunner(
    ProxyRules rules, WitnessServer witness, IConnectionMultiplexer redis, IReadOnlyList<IConnectionMultiplexer> redlock, string mySql, string postgres, string repository, Action<string> log)
{
    public async Task RunAsync(IReadOnlyList<FaultEvent> schedule, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var running = new List<Task>();
        foreach (var fault in schedule)
        {
            var wait = fault.At - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            log($"fault {fault}");
            running.Add(ApplyAsync(fault, cancellationToken));
        }

        await Task.WhenAll(running);
    }

    private async Task ApplyAsync(FaultEvent fault, CancellationToken cancellationToken)
    {
        var until = Environment.TickCount64 + (long)fault.Length.TotalMilliseconds;
        try
        {
            switch (fault.Kind)
            {
                case FaultKinds.ProxyError:
                    rules.Add(new ProxyRule(fault.Role, ProxyAction.Error, fault.Error, TimeSpan.Zero, fault.Probability, until));
                    break;
                case FaultKinds.ProxyDelay:
                    rules.Add(new ProxyRule(fault.Role, ProxyAction.Delay, string.Empty, fault.Delay, fault.Probability, until));
                    break;
                case FaultKinds.ProxyDrop:
                    rules.Add(new ProxyRule(fault.Role, ProxyAction.Drop, string.Empty, fault.Delay, fault.Probability, until));
                    break;
                case FaultKinds.ProxyReset:
                    rules.Add(new ProxyRule(fault.Role, ProxyAction.Reset, string.Empty, TimeSpan.Zero, fault.Probability, until));
                    break;
                case FaultKinds.ResetAll:
                    rules.ResetConnections();
                    break;
                case FaultKinds.RedisDelete or FaultKinds.RedisExpire or FaultKinds.RedisDeleteBurst:
                    await TakeKeyAsync(fault, cancellationToken);
                    break;
                case FaultKinds.MySqlKill or FaultKinds.MySqlKillQuery:
                    await KillAsync(fault.Kind == FaultKinds.MySqlKill ? "CONNECTION" : "QUERY", fault.Count);
                    break;
                case FaultKinds.MySqlRestart:
                    await ServicesAsync("kill-mysql");
                    await ServicesAsync("start-mysql");
                    log("fault mysql-restart: MariaDB is back");
                    break;
                case FaultKinds.PostgresKill:
                    await TerminatePostgresAsync(fault.Count);
                    break;
                case FaultKinds.PostgresRestart:
                    await ServicesAsync("kill-postgres");
                    await ServicesAsync("start-postgres");
                    log("fault postgres-restart: PostgreSQL is back");
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A fault that could not be applied (the server it targets is down) is logged, not fatal.
            log($"fault {fault.Kind} not applied: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private async Task TakeKeyAsync(FaultEvent fault, CancellationToken cancellationToken)
    {
        var spec = StrategySpec.Find(fault.Strategy);
        var key = spec.Key(fault.Key);

        // Aimed, as Jepsen's nemeses are: the key is taken while a long holder (one call in 40) is inside, so
        // the lease loss is noticed before that holder leaves and what the library does next is tested.
        // Bounded: after 2 s it is taken whoever holds it. A burst does not wait: it aims at short holders.
        var burst = fault.Kind == FaultKinds.RedisDeleteBurst;
        for (var waited = 0; !burst && waited < 2000 && !witness.HasHolder(StrategySpec.KeyName(key), TimeSpan.FromMilliseconds(50)); waited += 5)
        {
            await Task.Delay(5, cancellationToken);
        }

        var pattern = $"{StrategyFactory.Prefix}:{{{key}}}*";

        // Redlock: a majority of the nodes, so the lock is really gone; one node would be tolerated by design.
        var targets = spec.Name == StrategySpec.Redlock ? redlock.Where((_, i) => i != fault.Count % redlock.Count).ToList() : [redis];
        var taken = 0;
        if (spec.RedisExclusion)
        {
            witness.BeginRevoke(StrategySpec.KeyName(key));
        }

        var burstEnds = Environment.TickCount64 + (long)fault.Length.TotalMilliseconds;
        do
        {
            taken += await TakeOnceAsync(fault, targets, pattern);
            if (burst)
            {
                await Task.Delay(Random.Shared.Next(3, 15), cancellationToken);
            }
        }
        while (burst && Environment.TickCount64 < burstEnds);

        if (fault.Kind == FaultKinds.RedisExpire)
        {
            await Task.Delay(fault.Delay + TimeSpan.FromMilliseconds(5), cancellationToken);
        }

        // The key is gone: whoever was inside meanwhile lost the lock through no fault of the library. Callers
        // this process hands the dead lease to before its hand-off period ends (MaxHandoffTime, 50 ms) are
        // admitted too (docs/fencing.md, "What a hand-off admits"): the window stays open that long, with slack.
        if (spec.RedisExclusion)
        {
            await Task.Delay(HandoffPeriodSlack, cancellationToken);

            // An acquire Redis granted before the last delete may still be on its way back, held by a delay fault
            // (seed 22: granted during a burst, its reply held 744 ms, its holder entered after the window had closed).
            // Its holder lost the key before it knew it had it; no lock can see that. The window stays open until
            // every held reply has arrived, and the hand-off period's slack again after that.
            var held = rules.LastHeldReplyDue - Environment.TickCount64;
            if (held > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(held) + HandoffPeriodSlack, cancellationToken);
            }

            witness.EndRevoke(StrategySpec.KeyName(key));
        }

        log($"fault {fault.Kind}: {taken} key(s) of {pattern}");
    }

    /// <summary>The library's default hand-off period (50 ms) and slack for a loaded machine.</summary>
    private static readonly TimeSpan HandoffPeriodSlack = TimeSpan.FromMilliseconds(150);

    private static async Task<int> TakeOnceAsync(FaultEvent fault, IReadOnlyList<IConnectionMultiplexer> targets, string pattern)
    {
        var taken = 0;
        foreach (var connection in targets)
        {
            var server = connection.GetServers()[0];
            var db = connection.GetDatabase();
            await foreach (var name in server.KeysAsync(pattern: pattern, pageSize: 100))
            {
                if (((string?)name)!.EndsWith(":fence", StringComparison.Ordinal))
                {
                    continue; // the fence counter is not lock state: losing it is a different fault (data loss)
                }

                taken += fault.Kind == FaultKinds.RedisExpire
                    ? await db.KeyExpireAsync(name, fault.Delay) ? 1 : 0
                    : await db.KeyDeleteAsync(name) ? 1 : 0;
            }
        }

        return taken;
    }

    private async Task KillAsync(string what, int count)
    {
        await using var connection = new MySqlConnection(mySql);
        await connection.OpenAsync();
        var filter = what == "QUERY" ? " AND COMMAND = 'Query'" : string.Empty;
        var ids = (await connection.QueryAsync<long>(
            $"SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'duallock' AND DB = DATABASE() AND ID <> CONNECTION_ID(){filter}")).ToList();
        var random = new Random(ids.Count);
        foreach (var id in ids.OrderBy(_ => random.Next()).Take(count))
        {
            try
            {
                await connection.ExecuteAsync($"KILL {what} {id.ToString(CultureInfo.InvariantCulture)}");
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchThread)
            {
                // it ended by itself in between
            }
        }

        log($"fault KILL {what}: {Math.Min(count, ids.Count)} of {ids.Count} sessions");
    }

    private async Task TerminatePostgresAsync(int count)
    {
        await using var connection = new NpgsqlConnection(Ledger.Unpooled(postgres));
        await connection.OpenAsync();
        var pids = (await connection.QueryAsync<int>(
            "SELECT pid FROM pg_stat_activity WHERE usename = current_user AND datname = current_database() AND pid <> pg_backend_pid()")).ToList();
        var random = new Random(pids.Count);
        var ended = 0;
        foreach (var pid in pids.OrderBy(_ => random.Next()).Take(count))
        {
            // false when the session ended by itself in between
            ended += await connection.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", new { pid }) ? 1 : 0;
        }

        log($"fault pg_terminate_backend: {ended} of {pids.Count} sessions");
    }

    private async Task ServicesAsync(string command)
    {
        using var process = Process.Start(new ProcessStartInfo(Path.Combine(repository, "scripts", "services.sh"), command)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("scripts/services.sh did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/services.sh {command} exited {process.ExitCode}: {await stderr}");
        }
    }
}
