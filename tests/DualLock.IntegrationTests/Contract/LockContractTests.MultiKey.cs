using System.Diagnostics;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The multi-key cases: every stage locks a key set in one canonical order, all or none, within one wait.</summary>
public abstract partial class LockContractTests<TProvider>
{
    /// <summary>
    /// The negative control of the ordering case: two callers that take the same two keys in opposite orders
    /// (one lock inside the other, each first key held before either asks for its second) wait for each other.
    /// Only the wait ending (or the database's deadlock detector, reported as a timeout) gets them out.
    /// </summary>
    [Fact]
    [ContractCase(ContractCase.MultiKeyCanonicalOrder)]
    public async Task ExecuteAsync_NestedLocksInOppositeOrders_DeadlockUntilTheWaitEndsNegativeControl()
    {
        var a = await Provider.NewKeyAsync();
        var b = await Provider.NewKeyAsync();
        var first = Provider.CreatePipeline();
        var second = Provider.CreatePipeline();
        using var bothHoldTheirFirst = new Barrier(2);

        async Task<Exception?> NestedAsync(LockPipeline pipeline, LockKey outer, LockKey inner)
        {
            try
            {
                await pipeline.ExecuteAsync(outer, async (_, ct) =>
                {
                    await Task.Run(() => bothHoldTheirFirst.SignalAndWait(Holder.Bound, ct), ct);
                    await pipeline.ExecuteAsync(inner, (_, _) => ValueTask.CompletedTask, ShortWait, ct);
                }, cancellationToken: Ct);
                return null;
            }
            catch (LockTimeoutException ex)
            {
                return ex;
            }
        }

        var outcomes = await Task.WhenAll(NestedAsync(first, a, b), NestedAsync(second, b, a)).WaitAsync(Holder.Bound, Ct);

        Assert.True(
            outcomes.Any(o => o is LockTimeoutException),
            "Two callers each holding the key the other asks for must wait for each other; neither timing out means the control tests nothing.");
    }

    [Fact]
    [ContractCase(ContractCase.MultiKeyCanonicalOrder)]
    public async Task ExecuteAsync_KeySetsInOppositeOrdersAndSingleKeys_NoDeadlockNoTimeoutOneHolderPerKey()
    {
        const int rounds = 12;
        var a = await Provider.NewKeyAsync();
        var b = await Provider.NewKeyAsync();
        var first = Provider.CreatePipeline(wait: TimeSpan.FromSeconds(20));
        var second = Provider.CreatePipeline(wait: TimeSpan.FromSeconds(20));
        var holders = new Dictionary<LockKey, int> { [a] = 0, [b] = 0 };
        var overlaps = 0;
        var setsSeen = 0;

        async ValueTask WorkAsync(LockContext context, CancellationToken ct)
        {
            foreach (var key in context.Keys)
            {
                lock (holders)
                {
                    if (++holders[key] > 1)
                    {
                        overlaps++;
                    }
                }
            }

            if (context.Keys.Count == 2)
            {
                Interlocked.Increment(ref setsSeen);
            }

            await Task.Delay(1, ct);
            await Provider.WriteMarkAsync(context, "n");
            lock (holders)
            {
                foreach (var key in context.Keys)
                {
                    holders[key]--;
                }
            }
        }

        // [a, b] on one pipeline, [b, a] on the other (like another instance), and each key alone on both.
        var callers = new Func<Task>[]
        {
            () => first.ExecuteAsync([a, b], WorkAsync, cancellationToken: Ct).AsTask(),
            () => second.ExecuteAsync([b, a], WorkAsync, cancellationToken: Ct).AsTask(),
            () => first.ExecuteAsync([b, a], WorkAsync, cancellationToken: Ct).AsTask(),
            () => second.ExecuteAsync([a, b], WorkAsync, cancellationToken: Ct).AsTask(),
            () => first.ExecuteAsync(a, WorkAsync, cancellationToken: Ct).AsTask(),
            () => second.ExecuteAsync(b, WorkAsync, cancellationToken: Ct).AsTask(),
        };
        await Task.WhenAll(callers.Select(async caller =>
        {
            for (var i = 0; i < rounds; i++)
            {
                await caller();
            }
        })).WaitAsync(TimeSpan.FromMinutes(2), Ct);

        Assert.Equal(0, overlaps);
        Assert.Equal(4 * rounds, setsSeen);
        if (Provider.HasTransaction)
        {
            // Each key: 4 sets and 1 single-key caller per round, every one committed.
            Assert.Equal(5 * rounds, await Provider.CommittedMarksAsync(a));
            Assert.Equal(5 * rounds, await Provider.CommittedMarksAsync(b));
        }
    }

    [Theory]
    [ContractCase(ContractCase.MultiKeyAllOrNone)]
    [InlineData(Contender.SamePipeline)]
    [InlineData(Contender.OtherPipeline)]
    public async Task ExecuteAsync_OneKeyOfTheSetHeldElsewhere_TimesOutWithinTheWaitAndHoldsNoKey(Contender contender)
    {
        // Held: the middle key of the canonical order (the same resource, ids compared ordinally), so the set has
        // taken a key before it reaches the held one and has one after it left to take.
        var keys = new[] { await Provider.NewKeyAsync(), await Provider.NewKeyAsync(), await Provider.NewKeyAsync() }
            .OrderBy(k => k.Id, StringComparer.Ordinal).ToArray();
        var (a, b, c) = (keys[0], keys[1], keys[2]);
        var holding = Provider.CreatePipeline();
        var waiting = contender == Contender.SamePipeline ? holding : Provider.CreatePipeline();
        await using var holder = await Holder.StartAsync(holding, b);
        var ran = false;

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await waiting.ExecuteAsync([c, b, a], async (ctx, _) => { ran = true; await Provider.WriteMarkAsync(ctx, "set"); }, ShortWait, Ct));
        clock.Stop();

        Assert.False(ran, "The work must not run without every key of its set.");
        Assert.Contains(ex.Stage, waiting.StageNames);
        Assert.DoesNotContain(b.Id, ex.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, ShortWait - TimeSpan.FromMilliseconds(50), ShortWait + Prompt);

        // The keys it did get are free again at once; the held one is still the holder's.
        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), a, "A key the timed-out set had taken must be free at once.");
        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), c, "A key the timed-out set had taken must be free at once.");
        Assert.False(await TryOnceAsync(Provider.CreatePipeline(), b), "The key held elsewhere must still be held.");
        Assert.False((await waiting.TryExecuteAsync([a, b], (_, _) => ValueTask.FromResult(1), TimeSpan.Zero, Ct)).Acquired, "A zero wait on a set with a held key must report not acquired.");
        await holder.ReleaseAsync();

        Assert.True(await waiting.TryExecuteAsync([a, b, c], (ctx, _) => Provider.WriteMarkAsync(ctx, "set"), TimeSpan.Zero, Ct), "The whole set must be free after the holder released.");
        if (Provider.HasTransaction)
        {
            Assert.Equal(1, await Provider.CommittedMarksAsync(a));
            Assert.Equal(1, await Provider.CommittedMarksAsync(b));
            Assert.Equal(1, await Provider.CommittedMarksAsync(c));
        }
    }
}
