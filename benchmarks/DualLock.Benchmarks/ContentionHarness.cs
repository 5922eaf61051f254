namespace DualLock.Benchmarks;

/// <summary>Placeholder until the Redis stage lands; see benchmarks/README.md.</summary>
internal static class ContentionHarness
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("contention harness: not implemented yet");
        return Task.FromResult(2);
    }
}
