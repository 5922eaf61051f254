using BenchmarkDotNet.Attributes;

namespace DualLock.Benchmarks;

/// <summary>One uncontended charge on MariaDB with durable commits, every way, beside the atomic UPDATE limit.</summary>
[MemoryDiagnoser]
public class MySqlChargeBenchmarks
{
    private StackExchange.Redis.ConnectionMultiplexer _redis = null!;
    private MySqlCharges _charges = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = StackExchange.Redis.ConnectionMultiplexer.Connect(RepositoryRoot.Env("ConnectionStrings__Redis"));
        _charges = MySqlCharges.CreateAsync($"bdn-{Guid.NewGuid():N}", _redis).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _redis.Dispose();

    [Benchmark(Baseline = true, Description = "plain transaction (no lock)")]
    public Task Plain() => _charges.PlainAsync();

    [Benchmark(Description = "transaction + SELECT ... FOR UPDATE")]
    public ValueTask ForUpdate() => _charges.ForUpdateAsync();

    [Benchmark(Description = "GET_LOCK + transaction")]
    public ValueTask NamedLock() => _charges.NamedLockAsync();

    [Benchmark(Description = "optimistic (version column)")]
    public ValueTask Optimistic() => _charges.OptimisticAsync();

    [Benchmark(Description = "dual (Redis + FOR UPDATE)")]
    public ValueTask Dual() => _charges.DualAsync();

    [Benchmark(Description = "atomic UPDATE (limit)")]
    public Task Atomic() => _charges.AtomicAsync();
}
