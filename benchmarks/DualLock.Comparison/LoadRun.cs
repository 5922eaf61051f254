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

    public long Requests => Interlocked.Read(ref _requests);

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Errors => Interlocked.Read(ref _rejected) + Interlocked.Read(ref _ambiguous);

    public long InFlight => Interlocked.Read(ref _inFlight);

    public TimeSpan Length => options.Duration;

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
        var scale = options.Scale;
        var d = options.Duration;
        var drivers = options.ConstantRate is { } rate
            ? [DriveAsync(ArrivalSchedule.Constant("constant", rate, d), options.Hot ? () => spike : () => users[Random.Shared.Next(users.Count)], cancellationToken)]
            : options.Hot
            ? [DriveAsync(ArrivalSchedule.Constant("hot", 300 * scale, d), () => spike, cancellationToken)]
            : new[]
            {
                DriveAsync(ArrivalSchedule.Constant("distributed_lock_test", 50 * scale, d), () => users[Random.Shared.Next(users.Count)], cancellationToken),
                DriveAsync(
                    new ArrivalSchedule("single_user_spike", 10 * scale, [(d / 6, 20 * scale), (d / 4, 50 * scale), (d / 12, 0)]),
                    () => spike,
                    cancellationToken),
            };

        var started = Stopwatch.StartNew();
        await Task.WhenAll(drivers);
        var drain = Stopwatch.StartNew();
        while (InFlight > 0 && drain.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20, cancellationToken);
        }

        var elapsed = started.Elapsed.TotalSeconds;
        users.Add(spike);
        return await OracleAsync(strategy, run, users, elapsed, cancellationToken);
    }

    private async Task DriveAsync(ArrivalSchedule schedule, Func<UserTally> pickUser, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long started = 0;
        while (clock.Elapsed < schedule.Length)
        {
            var due = (long)schedule.ArrivalsUntil(clock.Elapsed);
            for (; started < due; started++)
            {
                if (Interlocked.Read(ref _inFlight) >= options.MaxInFlight)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }

                Interlocked.Increment(ref _inFlight);
                _ = IterationAsync(pickUser(), cancellationToken);
            }

            await Task.Delay(1, cancellationToken);
        }
    }

    /// <summary>One iteration of the seed: a short random pause, a charge, the racy check (a GET afterwards).</summary>
    private async Task IterationAsync(UserTally user, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Random.Shared.Next(0, 50), cancellationToken);
            var amount = Random.Shared.NextInt64(100, 1000);
            var result = await client.ChargeAsync(user.UserId, amount, cancellationToken);
            Interlocked.Increment(ref _requests);
            user.Record(result, amount);
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
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            _errors.AddOrUpdate($"CLIENT_{ex.GetType().Name}", 1, (_, n) => n + 1);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
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
            };
        }
    }
}
