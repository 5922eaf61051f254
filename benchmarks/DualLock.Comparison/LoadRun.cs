using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace DualLock.Comparison;

/// <summary>Drives the seed's scenarios open-loop against running API instances, then asks the oracle.</summary>
internal sealed class LoadRun(ComparisonOptions options, PointApiClient client)
{
    private const int SeedUsers = 20;
    private const long SeedInitialCharge = 100;

    private readonly LongHistogram _latency = new(TimeStamp.Minutes(5), 3);
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _requests;
    private long _acknowledged;
    private long _rejected;
    private long _ambiguous;
    private long _dropped;
    private long _inFlight;
    private long _racyFailures;
    private long _warmupErrors;
    private readonly LatencySamples _warmup = new();
    private readonly LatencySamples _measured = new();
    private long _warmupOrigin;
    private long _measuredOrigin;
    private (RuntimeCounters Server, RuntimeCounters Generator, RuntimeCounters WarmupServer, RuntimeCounters WarmupGenerator) _runtime;

    public long Requests => Interlocked.Read(ref _requests);

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Errors => Interlocked.Read(ref _rejected) + Interlocked.Read(ref _ambiguous);

    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Gets the warm-up and the measured phase together (the progress line's length).</summary>
    public TimeSpan Length => options.WarmUp + options.Duration;

    public async Task<StrategyResult> RunAsync(string strategy, int run, CancellationToken cancellationToken)
    {
        // setup, as in the seed: 20 users charged 100 each, plus the spike user.
        var users = new List<UserTally>();
        for (var i = 0; i < SeedUsers; i++)
        {
            var tally = new UserTally(await client.CreateUserAsync(cancellationToken));
            tally.Record(await client.ChargeAsync(tally.UserId, SeedInitialCharge, cancellationToken), SeedInitialCharge);
            users.Add(tally);
        }

        var spike = new UserTally(await client.CreateUserAsync(cancellationToken));
        Func<UserTally> spread = () => users[Random.Shared.Next(users.Count)];
        var scale = options.Scale;
        var d = options.Duration;

        // Warm-up (--warmup): the same scenarios at their starting rates, on the same users (the oracle
        // covers its charges), recorded apart: its percentiles are the cold instances' and are reported as such.
        var warmupCounters = (Server: RuntimeCounters.Zero, Generator: RuntimeCounters.Zero);
        if (options.WarmUp > TimeSpan.Zero)
        {
            var w = options.WarmUp;
            var warmupStarts = Stopwatch.GetTimestamp();
            var before = await ReadCountersAsync(cancellationToken);
            await Task.WhenAll(options.ConstantRate is { } warmRate
                ? [DriveAsync(ArrivalSchedule.Constant("warmup", warmRate, w), options.Hot ? () => spike : spread, _warmup, warmupStarts, cancellationToken)]
                : options.Hot
                ? [DriveAsync(ArrivalSchedule.Constant("warmup_hot", 300 * scale, w), () => spike, _warmup, warmupStarts, cancellationToken)]
                : new[]
                {
                    DriveAsync(ArrivalSchedule.Constant("warmup_distributed", 50 * scale, w), spread, _warmup, warmupStarts, cancellationToken),
                    DriveAsync(ArrivalSchedule.Constant("warmup_spike", 10 * scale, w), () => spike, _warmup, warmupStarts, cancellationToken),
                });
            await DrainAsync(cancellationToken);
            var after = await ReadCountersAsync(cancellationToken);
            warmupCounters = (after.Server - before.Server, after.Generator - before.Generator);
            _warmupOrigin = warmupStarts;
        }

        var measuredStarts = Stopwatch.GetTimestamp();
        var counters = await ReadCountersAsync(cancellationToken);
        var drivers = options.ConstantRate is { } rate
            ? [DriveAsync(ArrivalSchedule.Constant("constant", rate, d), options.Hot ? () => spike : spread, _measured, measuredStarts, cancellationToken)]
            : options.Hot
            ? [DriveAsync(ArrivalSchedule.Constant("hot", 300 * scale, d), () => spike, _measured, measuredStarts, cancellationToken)]
            : new[]
            {
                DriveAsync(ArrivalSchedule.Constant("distributed_lock_test", 50 * scale, d), spread, _measured, measuredStarts, cancellationToken),
                DriveAsync(
                    new ArrivalSchedule("single_user_spike", 10 * scale, [(d / 6, 20 * scale), (d / 4, 50 * scale), (d / 12, 0)]),
                    () => spike,
                    _measured,
                    measuredStarts,
                    cancellationToken),
            };

        var started = Stopwatch.StartNew();
        await Task.WhenAll(drivers);
        await DrainAsync(cancellationToken);
        var elapsed = started.Elapsed.TotalSeconds;
        var end = await ReadCountersAsync(cancellationToken);
        _measuredOrigin = measuredStarts;
        _runtime = (end.Server - counters.Server, end.Generator - counters.Generator, warmupCounters.Server, warmupCounters.Generator);
        users.Add(spike);
        return await OracleAsync(strategy, run, users, elapsed, cancellationToken);
    }

    private async Task<(RuntimeCounters Server, RuntimeCounters Generator)> ReadCountersAsync(CancellationToken cancellationToken)
        => (await client.RuntimeCountersAsync(cancellationToken), RuntimeCounters.OfThisProcess());

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var drain = Stopwatch.StartNew();
        while (InFlight > 0 && drain.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task DriveAsync(ArrivalSchedule schedule, Func<UserTally> pickUser, LatencySamples phase, long origin, CancellationToken cancellationToken)
    {
        long started = 0;
        while (Stopwatch.GetElapsedTime(origin) < schedule.Length)
        {
            var due = (long)schedule.ArrivalsUntil(Stopwatch.GetElapsedTime(origin));
            for (; started < due; started++)
            {
                if (Interlocked.Read(ref _inFlight) >= options.MaxInFlight)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }

                // When the schedule meant this arrival to start: a late tick of this loop shows up as lag.
                var dueAt = origin + (long)(schedule.TimeOf(started + 1).TotalSeconds * Stopwatch.Frequency);
                Interlocked.Increment(ref _inFlight);
                _ = IterationAsync(pickUser(), dueAt, phase, cancellationToken);
            }

            await Task.Delay(1, cancellationToken);
        }
    }

    /// <summary>One iteration of the seed: a short random pause, a charge, the racy check (a GET afterwards).</summary>
    private async Task IterationAsync(UserTally user, long arrivalTicks, LatencySamples phase, CancellationToken cancellationToken)
    {
        var measured = phase == _measured;
        try
        {
            var pause = Random.Shared.Next(0, 50);
            await Task.Delay(pause, cancellationToken);
            var amount = Random.Shared.NextInt64(100, 1000);
            var due = arrivalTicks + (pause * Stopwatch.Frequency / 1000);
            var lag = Math.Max(0, Stopwatch.GetTimestamp() - due);
            var result = await client.ChargeAsync(user.UserId, amount, cancellationToken);
            user.Record(result, amount);
            phase.Add(new LatencySample(due, lag, result.LatencyTicks, result.ServerMs));
            if (!measured)
            {
                // Warm-up: the oracle counts the charge (above); the table's counters and histogram do not.
                if (result.Outcome != WriteOutcome.Acknowledged)
                {
                    Interlocked.Increment(ref _warmupErrors);
                }
                else
                {
                    _ = await client.GetBalanceAsync(user.UserId, cancellationToken);
                }

                return;
            }

            Interlocked.Increment(ref _requests);
            lock (_latency)
            {
                _latency.RecordValue(result.LatencyTicks);
            }

            switch (result.Outcome)
            {
                case WriteOutcome.Acknowledged:
                    Interlocked.Increment(ref _acknowledged);
                    if (await client.GetBalanceAsync(user.UserId, cancellationToken) != result.Balance)
                    {
                        Interlocked.Increment(ref _racyFailures);
                    }

                    break;
                case WriteOutcome.Rejected:
                    Interlocked.Increment(ref _rejected);
                    _errors.AddOrUpdate(result.Code, 1, (_, n) => n + 1);
                    break;
                default:
                    Interlocked.Increment(ref _ambiguous);
                    _errors.AddOrUpdate(result.Code, 1, (_, n) => n + 1);
                    break;
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && !measured)
        {
            Interlocked.Increment(ref _warmupErrors);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _errors.AddOrUpdate($"CLIENT_{ex.GetType().Name}", 1, (_, n) => n + 1);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Cold vs warm: the warm-up phase, the measured phase's first 5 s and the rest, with the runtime counters of each phase.</summary>
    private LatencyPhases Phases()
    {
        var cold = TimeSpan.FromSeconds(5);
        return new LatencyPhases
        {
            WarmUpSeconds = options.WarmUp.TotalSeconds,
            WarmUp = _warmup.Count > 0 ? _warmup.Stats(_warmupOrigin) : null,
            WarmUpErrors = Interlocked.Read(ref _warmupErrors),
            Measured = _measured.Stats(_measuredOrigin),
            First5s = _measured.Stats(_measuredOrigin, until: cold),
            After5s = _measured.Stats(_measuredOrigin, from: cold),
            PerSecond = _measured.PerSecond(_measuredOrigin),
            WarmUpPerSecond = _warmup.PerSecond(_warmupOrigin),
            Server = _runtime.Server,
            Generator = _runtime.Generator,
            WarmUpServer = _runtime.WarmupServer,
            WarmUpGenerator = _runtime.WarmupGenerator,
        };
    }

    private async Task<StrategyResult> OracleAsync(string strategy, int run, List<UserTally> users, double elapsedSeconds, CancellationToken cancellationToken)
    {
        int lostUsers = 0, phantomUsers = 0, auditBad = 0;
        long lostAmount = 0;
        foreach (var user in users)
        {
            var balance = await client.GetBalanceAsync(user.UserId, cancellationToken);
            var audit = await client.AuditAsync(user.UserId, cancellationToken);
            if (balance < user.Acknowledged)
            {
                lostUsers++;
                lostAmount += user.Acknowledged - balance;
            }
            else if (balance > user.Acknowledged + user.Ambiguous)
            {
                phantomUsers++;
            }

            if (!audit.Consistent || audit.Balance != balance)
            {
                auditBad++;
            }
        }

        double Ms(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var requests = Requests;
        lock (_latency)
        {
            return new StrategyResult
            {
                Strategy = strategy,
                Run = run,
                Instances = options.Instances,
                DurationSeconds = elapsedSeconds,
                Requests = requests,
                Acknowledged = Acknowledged,
                Rejected = Interlocked.Read(ref _rejected),
                Ambiguous = Interlocked.Read(ref _ambiguous),
                Dropped = Interlocked.Read(ref _dropped),
                ThroughputPerSecond = Acknowledged / elapsedSeconds,
                SuccessRate = requests == 0 ? 0 : (double)Acknowledged / requests,
                P50Ms = Ms(_latency.GetValueAtPercentile(50)),
                P95Ms = Ms(_latency.GetValueAtPercentile(95)),
                P99Ms = Ms(_latency.GetValueAtPercentile(99)),
                MaxMs = Ms(_latency.GetMaxValue()),
                MeanMs = Ms(_latency.GetMean()),
                ErrorsByCode = new SortedDictionary<string, long>(_errors, StringComparer.Ordinal),
                LockTimeouts = _errors.GetValueOrDefault("LOCK_TIMEOUT"),
                SeedRacyCheckFailures = Interlocked.Read(ref _racyFailures),
                UsersChecked = users.Count,
                UsersWithLostUpdates = lostUsers,
                LostAmount = lostAmount,
                UsersWithPhantomWrites = phantomUsers,
                AuditInconsistentUsers = auditBad,
                Phases = Phases(),
            };
        }
    }
}
