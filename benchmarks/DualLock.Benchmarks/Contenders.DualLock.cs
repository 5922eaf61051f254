using StackExchange.Redis;

namespace DualLock.Benchmarks;

internal static partial class Contenders
{
    private static Contender CreateDualLock(ConnectionMultiplexer redis, HarnessOptions options)
        => throw new NotSupportedException("DualLock's Redis stage is not wired into the harness yet.");
}
