namespace DualLock.Benchmarks;

/// <summary>
/// The uncontended Redis benchmarks (<see cref="UncontendedRedisBenchmarks"/>, the same methods) measured
/// <see cref="Interleaved"/>, the ratios to two PINGs taken within each round.
/// </summary>
/// <remarks><c>uncontended [--rounds 21] [--ops 500]</c>; writes <c>benchmarks/results/uncontended-interleaved.md</c>.</remarks>
internal static class InterleavedUncontendedHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var bench = new UncontendedRedisBenchmarks();
        bench.Setup();
        try
        {
            await Interleaved.RunAsync(
                "Interleaved uncontended Redis",
                [
                    ("two PINGs (limit)", bench.TwoPings),
                    ("raw SET NX PX + compare-and-delete", bench.RawSetNxAndDelete),
                    ("DualLock's two scripts alone (floor)", bench.DualLockScriptsAlone),
                    ("DualLock Redis stage", () => bench.DualLockRedis().AsTask()),
                    ("DistributedLock.Redis", bench.DistributedLockRedis),
                    ("RedLock.net (single endpoint)", bench.RedLockNet),
                ],
                Interleaved.Option(args, "--rounds", 21),
                Interleaved.Option(args, "--ops", 500),
                Path.Combine(RepositoryRoot.Find(), "benchmarks", "results", "uncontended-interleaved.md"));
            return 0;
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
