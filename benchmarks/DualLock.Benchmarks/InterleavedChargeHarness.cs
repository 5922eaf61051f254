namespace DualLock.Benchmarks;

/// <summary>
/// The uncontended charges (<see cref="MySqlChargeBenchmarks"/>, the same methods) measured <see cref="Interleaved"/>,
/// the ratios to the row lock alone (transaction + <c>SELECT ... FOR UPDATE</c>) taken within each round: the dual
/// target (<c>dual</c> within 1.25x of the row lock alone) as a ratio that the machine's drifting load does not move.
/// </summary>
/// <remarks><c>charges [--rounds 15] [--ops 200]</c>; writes <c>benchmarks/results/charges-interleaved.md</c>.</remarks>
internal static class InterleavedChargeHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var bench = new MySqlChargeBenchmarks();
        bench.Setup();
        try
        {
            await Interleaved.RunAsync(
                "Interleaved uncontended charges (MariaDB with durable commits)",
                [
                    ("transaction + SELECT ... FOR UPDATE", () => bench.ForUpdate().AsTask()),
                    ("plain transaction (no lock)", bench.Plain),
                    ("GET_LOCK + transaction", () => bench.NamedLock().AsTask()),
                    ("optimistic (version column)", () => bench.Optimistic().AsTask()),
                    ("dual (Redis + FOR UPDATE)", () => bench.Dual().AsTask()),
                    ("atomic UPDATE (limit)", bench.Atomic),
                ],
                Interleaved.Option(args, "--rounds", 15),
                Interleaved.Option(args, "--ops", 200),
                Path.Combine(RepositoryRoot.Find(), "benchmarks", "results", "charges-interleaved.md"));
            return 0;
        }
        finally
        {
            bench.Cleanup();
        }
    }
}
