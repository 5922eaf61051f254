using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;

namespace DualLock.Benchmarks;

/// <summary>Uncontended acquire + release inside one process: DualLock's stage against the usual hand-rolled locks.</summary>
[MemoryDiagnoser]
public class InProcessBenchmarks
{
    private static readonly LockKey Key = new("account", "1");
    private readonly SemaphoreSlim _single = new(1, 1);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _perKey = new();
    private LockPipeline _pipeline = null!;

    [GlobalSetup]
    public void Setup() => _pipeline = new LockPipelineBuilder().AddInProcessLock().Build();

    [Benchmark(Baseline = true, Description = "SemaphoreSlim (one key)")]
    public async Task SemaphoreSlimSingle()
    {
        await _single.WaitAsync();
        _single.Release();
    }

    [Benchmark(Description = "ConcurrentDictionary<string, SemaphoreSlim> + clean-up")]
    public async Task DictionaryOfSemaphores()
    {
        // The common hand-rolled version; the clean-up is racy in most copies, shown here for cost only.
        var key = Key.ToString();
        var semaphore = _perKey.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync();
        semaphore.Release();
        if (semaphore.CurrentCount == 1)
        {
            _perKey.TryRemove(new KeyValuePair<string, SemaphoreSlim>(key, semaphore));
        }
    }

    [Benchmark(Description = "DualLock in-process pipeline")]
    public ValueTask DualLockInProcess() => _pipeline.ExecuteAsync(Key, static (_, _) => ValueTask.CompletedTask);

    [Benchmark(Description = "DualLock no-lock pipeline (pipeline overhead)")]
    public ValueTask DualLockNoLock() => NoLock.ExecuteAsync(Key, static (_, _) => ValueTask.CompletedTask);

    private static readonly LockPipeline NoLock = new LockPipelineBuilder().AddNoLock().Build();
}
