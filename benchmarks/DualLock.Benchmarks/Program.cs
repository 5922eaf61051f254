using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using DualLock.Benchmarks;

// `contention ...` runs the hot-key harness (throughput and wait percentiles are not what
// BenchmarkDotNet measures); everything else goes to BenchmarkDotNet's switcher.
if (args.Length > 0 && args[0] == "contention")
{
    return await ContentionHarness.RunAsync(args[1..]);
}

// `replica-wait-cost PRIMARY [rounds] [ops]`: what RedisLockOptions.WaitForReplicas costs (see ReplicaWaitCost).
if (args.Length > 0 && args[0] == "replica-wait-cost")
{
    return await ReplicaWaitCost.RunAsync(args[1..]);
}

// `combiner-paired [rounds]` interleaves the combiner's low-load pairs (see CombinerPairedCheck).
if (args.Length > 0 && args[0] == "combiner-paired")
{
    return await CombinerPairedCheck.RunAsync(args[1..]);
}

// `uncontended ...` runs the uncontended Redis benchmarks interleaved, ratios taken within each round.
if (args.Length > 0 && args[0] == "uncontended")
{
    return await InterleavedUncontendedHarness.RunAsync(args[1..]);
}

// `charges ...` runs the uncontended charges (MySqlChargeBenchmarks) interleaved, ratios to the row lock alone within each round.
if (args.Length > 0 && args[0] == "charges")
{
    return await InterleavedChargeHarness.RunAsync(args[1..]);
}

// Quick by default (the whole suite fits in 15 minutes on 2 cores); --full for BenchmarkDotNet's
// default job; an explicit --job (e.g. Dry, used by test.sh so benchmarks cannot rot) wins.
var full = args.Contains("--full");
var config = ManualConfig.Create(DefaultConfig.Instance)
    .WithArtifactsPath(Path.Combine(RepositoryRoot.Find(), "benchmarks", "results"))
    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableLogFile);
if (!args.Contains("--job"))
{
    config = config.AddJob(full ? Job.Default : Job.ShortRun.WithId("Quick"));
}
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Where(a => a != "--full").ToArray(), config).ToList();

// A benchmark that throws must fail the run (test.sh relies on it), and so must a filter that matched nothing.
var failed = summaries.Count == 0
    || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length == 0 || s.Reports.Any(r => !r.Success));
return failed ? 1 : 0;
