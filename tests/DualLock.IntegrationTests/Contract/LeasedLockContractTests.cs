using System.Diagnostics;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The contract of a lock held under a lease that can be lost while the work runs.</summary>
/// <typeparam name="TProvider">The stage under test; its <see cref="ContractProvider.LeasedStage"/> names the leased stage.</typeparam>
public abstract class LeasedLockContractTests<TProvider> : ExclusiveLockContractTests<TProvider>
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
}
