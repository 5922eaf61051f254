using System.Collections.Concurrent;

namespace DualLock.Tests.Registry;

public sealed class KeyedRegistryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void EnterExit_SameKey_SharesOneEntryRemovedByTheLastUser()
    {
        var registry = new KeyedRegistry<KeyedSemaphore>(KeyedSemaphore.Create);
        var first = registry.Enter("k", 10)!;
        var second = registry.Enter("k", 10)!;

        Assert.Same(first, second);
        Assert.Equal(2, first.Users);
        Assert.False(registry.Exit(first));
        Assert.Same(first, registry.Find("k"));
        Assert.True(registry.Exit(second));
        Assert.Null(registry.Find("k"));
        Assert.Equal(0, registry.Count);
        Assert.Throws<InvalidOperationException>(() => registry.Exit(first));
    }

    [Fact]
    public void Enter_KeyAtItsLimit_RefusedWithoutJoining()
    {
        var registry = new KeyedRegistry<KeyedSemaphore>(KeyedSemaphore.Create);
        var entry = registry.Enter("k", 2)!;
        Assert.NotNull(registry.Enter("k", 2));

        Assert.Null(registry.Enter("k", 2));
        Assert.Equal(2, entry.Users);
        Assert.NotNull(registry.Enter("other", 2)); // the limit is per key
    }

    [Fact]
    public void Enter_EntryWhoseLastUserLeftButHasNotRemovedIt_RemovesItAndCreatesAFreshOne()
    {
        var registry = new KeyedRegistry<KeyedSemaphore>(KeyedSemaphore.Create);
        var leaving = registry.Enter("k", 10)!;
        Assert.True(leaving.Leave()); // the last user left; its removal has not run yet

        var fresh = registry.Enter("k", 10)!;

        Assert.NotSame(leaving, fresh);
        Assert.Same(fresh, registry.Find("k"));
        Assert.Null(leaving.TryJoin(10)); // zero users is final
        Assert.True(registry.Exit(fresh));
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public void Enter_RegistryWithoutFactory_NeedsOneAtTheCall()
    {
        var registry = new KeyedRegistry<KeyedSemaphore>();
        Assert.Throws<InvalidOperationException>(() => registry.Enter("k", 1));
        Assert.NotNull(registry.Enter("k", static (key, _) => new KeyedSemaphore(key), 0, 1));
    }

    [Fact]
    public async Task EnterExit_ManyTasksOnSameAndDifferentKeys_NoTwoHoldersOverlapAndTheTableEndsEmpty()
    {
        var registry = new KeyedRegistry<KeyedSemaphore>(KeyedSemaphore.Create);
        var inside = new ConcurrentDictionary<string, int>();
        var served = 0;
        var overlaps = 0;
        var peak = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 20_000), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (i, ct) =>
        {
            // Half the work on 3 hot keys (entries created and removed over and over), half spread over 500.
            var key = i % 2 == 0 ? $"hot{i % 3}" : $"k{i % 500}";
            var entry = registry.Enter(key, int.MaxValue)!;
            try
            {
                await entry.Semaphore.WaitAsync(ct);
                try
                {
                    if (inside.AddOrUpdate(key, 1, (_, n) => n + 1) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    InterlockedMax(ref peak, registry.Count);
                    if (i % 7 == 0)
                    {
                        await Task.Yield();
                    }

                    inside.AddOrUpdate(key, 0, (_, n) => n - 1);
                    Interlocked.Increment(ref served);
                }
                finally
                {
                    entry.Semaphore.Release();
                }
            }
            finally
            {
                registry.Exit(entry);
            }
        });

        Assert.Equal(20_000, served);
        Assert.Equal(0, overlaps);
        Assert.True(peak >= 1, "keys must have been tracked while in use");
        Assert.Equal(0, registry.Count);
    }

    [Fact]
    public async Task EnterExit_RacingLastExitAndNewEnter_NeverHandsOutARemovedEntry()
    {
        // One key, two tasks entering and leaving as fast as they can: every exit by the last user races an
        // enter. A caller must never get an entry that is no longer in the table (it would lock alone).
        var registry = new KeyedRegistry<KeyedSemaphore>(KeyedSemaphore.Create);
        var stale = 0;
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(
            () =>
            {
                for (var i = 0; i < 50_000; i++)
                {
                    var entry = registry.Enter("k", int.MaxValue)!;
                    if (!ReferenceEquals(registry.Find("k"), entry))
                    {
                        Interlocked.Increment(ref stale);
                    }

                    registry.Exit(entry);
                }
            },
            Ct)).ToArray();
        await Task.WhenAll(tasks);

        Assert.Equal(0, stale);
        Assert.Equal(0, registry.Count);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
