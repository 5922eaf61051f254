using System.Collections.Concurrent;

namespace DualLock.IntegrationTests.Contract;

/// <summary>Fencing tokens across the hand-offs of one process's queue: every holder gets a higher token than the one before it.</summary>
public abstract partial class LeasedLockContractTests<TProvider>
{
    /// <summary>Callers queued behind the first holder; a stage with a local queue hands the lock to each in turn.</summary>
    private const int QueuedCallers = 5;

    [Fact]
    [ContractCase(ContractCase.HandoffFencing)]
    public async Task ExecuteAsync_CallersQueuedInOneProcess_EachHolderGetsAHigherToken()
    {
        var key = await Provider.NewKeyAsync();
        var tokens = await RunQueuedAsync([key], [key]);

        AssertStrictlyIncreasing(tokens.Select(t => t[0]).ToArray(), "the key");
    }

    [Fact]
    [ContractCase(ContractCase.HandoffFencing)]
    public async Task ExecuteAsync_KeySetCallersQueuedInOneProcess_EachHolderGetsAHigherTokenPerKey()
    {
        var a = await Provider.NewKeyAsync();
        var b = await Provider.NewKeyAsync();
        var tokens = await RunQueuedAsync([a, b], [b, a]);

        AssertStrictlyIncreasing(tokens.Select(t => t[0]).ToArray(), "the first key");
        AssertStrictlyIncreasing(tokens.Select(t => t[1]).ToArray(), "the second key");
    }

    private static void AssertStrictlyIncreasing(long[] tokens, string which)
    {
        Assert.Equal(QueuedCallers + 1, tokens.Length);
        for (var i = 1; i < tokens.Length; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"Holder {i} of {which} got token {tokens[i]} after {tokens[i - 1]} (all, in holding order: {string.Join(", ", tokens)}).");
        }
    }

    /// <summary>
    /// One holder, then <see cref="QueuedCallers"/> callers of the same pipeline queued behind it (alternating
    /// the set's order); returns each holder's tokens for <paramref name="keys"/>, in the order they held.
    /// </summary>
    private async Task<List<long[]>> RunQueuedAsync(LockKey[] keys, LockKey[] reversed)
    {
        var pipeline = Provider.CreatePipeline();
        var order = new ConcurrentQueue<long[]>();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Recorded inside the work: the lock excludes, so the queue's order is the holding order.
        async ValueTask RecordAsync(LockContext ctx)
        {
            await Provider.WriteMarkAsync(ctx, "handoff");
            order.Enqueue(keys.Select(k => ctx.GetFencingToken(k) ?? throw new InvalidOperationException($"No token for {k.Resource}.")).ToArray());
        }

        var first = pipeline.ExecuteAsync(keys, async (ctx, _) =>
        {
            await RecordAsync(ctx);
            held.SetResult();
            await release.Task;
        }, cancellationToken: Ct).AsTask();
        await held.Task.WaitAsync(Holder.Bound, Ct);

        var queued = Enumerable.Range(0, QueuedCallers)
            .Select(i => pipeline.ExecuteAsync(i % 2 == 0 ? keys : reversed, (ctx, _) => RecordAsync(ctx), cancellationToken: Ct).AsTask())
            .ToArray();

        // Give them time to queue behind the holder: one that has not queued yet acquires anew later, which
        // only weakens the case (a stage that hands off then hands off fewer times), never fails it falsely.
        await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
        release.SetResult();
        await first.WaitAsync(Holder.Bound, Ct);
        await Task.WhenAll(queued).WaitAsync(Holder.Bound, Ct);
        return [.. order];
    }
}
