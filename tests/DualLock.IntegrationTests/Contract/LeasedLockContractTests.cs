using System.Diagnostics;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The contract of a lock held under a lease that can be lost while the work runs.</summary>
/// <typeparam name="TProvider">The stage under test; its <see cref="ContractProvider.LeasedStage"/> names the leased stage.</typeparam>
public abstract partial class LeasedLockContractTests<TProvider> : ExclusiveLockContractTests<TProvider>
    where TProvider : ContractProvider, new()
{
    [Fact]
    [ContractCase(ContractCase.LeaseLoss)]
    public async Task ExecuteAsync_LeaseTakenAwayBehindTheHolder_WorkTokenFiresLeaseLostAndNothingCommits()
    {
        var leased = Provider.LeasedStage ?? throw new InvalidOperationException($"Provider '{Provider.Name}' runs the lease case but names no leased stage.");
        var key = await Provider.NewKeyAsync();
        var pipeline = Provider.CreatePipeline(ContractProvider.ShortLease);
        var running = new TaskCompletionSource<(LockContext Context, CancellationToken Token)>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            await Provider.WriteMarkAsync(ctx, "after-loss");
            running.SetResult((ctx, ct));
            await Task.Delay(TimeSpan.FromSeconds(60), ct);
        }, cancellationToken: Ct).AsTask();
        var (context, workToken) = await running.Task.WaitAsync(Holder.Bound, Ct);
        await Provider.BreakLeaseAsync(key);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(() => run.WaitAsync(Holder.Bound));
        clock.Stop();

        Assert.True(workToken.IsCancellationRequested, "The lease loss must reach the work's token.");
        Assert.Equal(leased, ex.Stage);
        Assert.Equal(key.Resource, ex.Resource);
        Assert.DoesNotContain(key.Id, ex.Message, StringComparison.Ordinal);
        Assert.Equal(leased, context.LeaseLostStage);

        // Noticed within the lease (2 s) with slack for a loaded machine, not when the work would have ended (60 s).
        Assert.True(clock.Elapsed < ContractProvider.ShortLease.Lease + Prompt, $"The loss was reported after {clock.ElapsedMilliseconds} ms.");
        if (Provider.HasTransaction)
        {
            Assert.Null(await Provider.CommittedNoteAsync(key));
        }

        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), key, "After the lost holder ended, the key must be free at once.");
    }

    [Fact]
    [ContractCase(ContractCase.MultiKeyFencing)]
    public async Task ExecuteAsync_KeySet_EachKeyGetsItsOwnTokenIncreasingWithEveryHolder()
    {
        var a = await Provider.NewKeyAsync();
        var b = await Provider.NewKeyAsync();
        var pipeline = Provider.CreatePipeline();

        async Task<(long A, long B)> SetTokensAsync(LockKeySet keys) => await pipeline.ExecuteAsync(keys, async (ctx, _) =>
        {
            await Provider.WriteMarkAsync(ctx, "set");
            return (ctx.GetFencingToken(a) ?? throw new InvalidOperationException("no token for the first key"),
                ctx.GetFencingToken(b) ?? throw new InvalidOperationException("no token for the second key"));
        }, cancellationToken: Ct);

        var before = await SetTokensAsync([a, b]);
        var single = await Provider.CreatePipeline().ExecuteAsync(a, (ctx, _) => ValueTask.FromResult(ctx.FencingToken ?? 0), cancellationToken: Ct);
        var after = await SetTokensAsync([b, a]);

        Assert.True(single > before.A, $"A single-key holder after the set must get a higher token for that key: {single} after {before.A}.");
        Assert.True(after.A > single, $"The next set must get a higher token for the first key: {after.A} after {single}.");
        Assert.True(after.B > before.B, $"The next set must get a higher token for the second key: {after.B} after {before.B}.");
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await pipeline.ExecuteAsync([a, b], (ctx, _) => ValueTask.FromResult(ctx.GetFencingToken(new LockKey("contract", "not-in-the-set"))), cancellationToken: Ct));
    }
}
