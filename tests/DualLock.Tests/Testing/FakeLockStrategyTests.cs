using DualLock.Testing;

namespace DualLock.Tests.Testing;

public sealed class FakeLockStrategyTests
{
    private static readonly LockKey Alice = new("user-point", 1L);
    private static readonly LockKey Bob = new("user-point", 2L);

    [Fact]
    public async Task Execute_NoFailure_RunsTheWorkAndRecordsKeysAndWaits()
    {
        var strategy = new FakeLockStrategy("charge") { WaitTimeout = TimeSpan.FromSeconds(3) };

        var result = await strategy.ExecuteAsync(Alice, (context, _) => new ValueTask<int>(context.Keys.Count));
        await strategy.ExecuteAsync([Bob, Alice], (_, _) => ValueTask.CompletedTask, waitTimeout: TimeSpan.FromMilliseconds(50));

        Assert.Equal(1, result);
        var calls = strategy.Calls;
        Assert.Equal(2, calls.Count);
        Assert.Equal("charge", strategy.Name);
        Assert.Equal(new LockKeySet(Alice), calls[0].Keys);
        Assert.Null(calls[0].RequestedWait);
        Assert.Equal(TimeSpan.FromSeconds(3), calls[0].WaitTimeout);
        Assert.True(calls[0].ThrowOnTimeout);
        Assert.True(calls[0].WorkRan);
        Assert.True(calls[0].Succeeded);
        Assert.Null(calls[0].Failure);
        Assert.Equal([Alice, Bob], calls[1].Keys);
        Assert.Equal(TimeSpan.FromMilliseconds(50), calls[1].RequestedWait);
        Assert.Equal(2, calls[1].Number);
    }

    [Fact]
    public async Task FailCall_Timeout_ExecuteThrowsWithoutRunningTheWork()
    {
        var strategy = new FakeLockStrategy("charge").FailCall(2, FakeLockFailure.Timeout);
        var runs = 0;

        await strategy.ExecuteAsync(Alice, (_, _) => { runs++; return ValueTask.CompletedTask; });
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await strategy.ExecuteAsync(Alice, (_, _) => { runs++; return ValueTask.CompletedTask; }, TimeSpan.FromMilliseconds(20)));

        Assert.Equal(1, runs);
        Assert.Equal("user-point", ex.Resource);
        Assert.Equal("charge", ex.Stage);
        Assert.Equal(TimeSpan.FromMilliseconds(20), ex.WaitTimeout);
        Assert.False(strategy.Calls[1].WorkRan);
        Assert.Same(ex, strategy.Calls[1].Exception);
    }

    [Fact]
    public async Task FailCall_TimeoutOnTryExecute_ReportsNotAcquired()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.Timeout);

        var acquired = await strategy.TryExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask);

        Assert.False(acquired);
        Assert.False(strategy.Calls[0].ThrowOnTimeout);
        Assert.False(strategy.Calls[0].WorkRan);
        Assert.False(strategy.Calls[0].Succeeded);
        Assert.Null(strategy.Calls[0].Exception);
    }

    [Fact]
    public async Task FailCall_Unavailable_ThrowsWithoutRunningTheWork()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.Unavailable);

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () =>
            await strategy.TryExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask));

        Assert.Equal("fake", ex.Stage);
        Assert.False(strategy.Calls[0].WorkRan);
    }

    [Fact]
    public async Task FailCall_Conflict_ThrowsLockConflictWithoutRunningTheWork()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.Conflict);

        var ex = await Assert.ThrowsAsync<LockConflictException>(async () =>
            await strategy.ExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask));

        Assert.Equal(1, ex.Attempts);
        Assert.IsType<OptimisticConflictException>(ex.InnerException);
        Assert.False(strategy.Calls[0].WorkRan);
    }

    [Fact]
    public async Task FailCall_LeaseLost_WorkSeesTheLossAndTheCallThrows()
    {
        var strategy = new FakeLockStrategy("charge").FailCall(1, FakeLockFailure.LeaseLost);
        var sawLoss = false;

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await strategy.ExecuteAsync(Alice, (context, ct) =>
            {
                sawLoss = ct.IsCancellationRequested && context.LeaseLost.IsCancellationRequested && context.LeaseLostStage == "charge";
                return ValueTask.CompletedTask; // ignores its token: the call still fails
            }));

        Assert.True(sawLoss);
        Assert.True(strategy.Calls[0].WorkRan);
        Assert.Equal("charge", ex.Stage);
    }

    [Fact]
    public async Task FailCall_LeaseLostAndWorkStopsOnItsToken_ThrowsLeaseLostWithTheCancellationInside()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.LeaseLost);

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(async () =>
            await strategy.ExecuteAsync(Alice, async (_, ct) => await Task.Delay(TimeSpan.FromSeconds(30), ct)));

        Assert.IsType<TaskCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task FailCall_CommitOutcomeUnknown_RunsTheWorkThenThrows()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.CommitOutcomeUnknown);

        var ex = await Assert.ThrowsAsync<LockCommitOutcomeUnknownException>(async () =>
            await strategy.ExecuteAsync(Alice, (_, _) => new ValueTask<int>(5)));

        Assert.IsType<IOException>(ex.InnerException);
        Assert.True(strategy.Calls[0].WorkRan);
        Assert.False(strategy.Calls[0].Succeeded);
    }

    [Fact]
    public async Task FailCall_ReleaseFailedAfterCommit_ReturnsTheWorksResultAndRecordsIt()
    {
        var strategy = new FakeLockStrategy().FailCall(1, FakeLockFailure.ReleaseFailedAfterCommit);

        var result = await strategy.ExecuteAsync(Alice, (_, _) => new ValueTask<int>(5));

        Assert.Equal(5, result);
        Assert.Equal(FakeLockFailure.ReleaseFailedAfterCommit, strategy.Calls[0].Failure);
        Assert.True(strategy.Calls[0].Succeeded);
    }

    [Fact]
    public async Task FailKey_FailsEveryCallLockingThatKeyOnly()
    {
        var strategy = new FakeLockStrategy().FailKey(Bob, FakeLockFailure.Unavailable);

        await strategy.ExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask);
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await strategy.ExecuteAsync(Bob, (_, _) => ValueTask.CompletedTask));
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await strategy.ExecuteAsync([Alice, Bob], (_, _) => ValueTask.CompletedTask));

        Assert.Equal([null, FakeLockFailure.Unavailable, FakeLockFailure.Unavailable], strategy.Calls.Select(c => c.Failure));
    }

    [Fact]
    public async Task FailCall_WinsOverFailKey()
    {
        var strategy = new FakeLockStrategy().FailKey(Alice, FakeLockFailure.Unavailable).FailCall(1, FakeLockFailure.Timeout);

        Assert.False(await strategy.TryExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask));
    }

    [Fact]
    public async Task IssueFencingTokens_EachHolderOfAKeyGetsAHigherToken()
    {
        var strategy = new FakeLockStrategy().IssueFencingTokens(first: 10);

        var first = await strategy.ExecuteAsync(Alice, (context, _) => new ValueTask<long?>(context.FencingToken));
        var second = await strategy.ExecuteAsync(Alice, (context, _) => new ValueTask<long?>(context.FencingToken));
        var pair = await strategy.ExecuteAsync([Alice, Bob], (context, _) => new ValueTask<(long?, long?)>((context.GetFencingToken(Alice), context.GetFencingToken(Bob))));

        Assert.Equal(10, first);
        Assert.Equal(11, second);
        Assert.Equal((12L, 10L), pair);
        Assert.Equal([12L, 10L], strategy.Calls[2].FencingTokens);
    }

    [Fact]
    public async Task NoFencingTokens_ContextHasNone()
    {
        var strategy = new FakeLockStrategy();

        Assert.Null(await strategy.ExecuteAsync(Alice, (context, _) => new ValueTask<long?>(context.FencingToken)));
        Assert.Empty(strategy.Calls[0].FencingTokens);
    }

    [Fact]
    public async Task ConfigureContext_ProvidesAFeatureToTheWork()
    {
        var feature = new Ledger();
        var strategy = new FakeLockStrategy("charge").ConfigureContext(context => context.SetFeature(feature));

        var seen = await strategy.ExecuteAsync(Alice, (context, _) => new ValueTask<Ledger>(context.GetRequiredFeature<Ledger>()));

        Assert.Same(feature, seen);
    }

    [Fact]
    public async Task WorkThrows_TheWorksExceptionSurfacesAndIsRecorded()
    {
        var strategy = new FakeLockStrategy();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await strategy.ExecuteAsync(Alice, (_, _) => throw new InvalidOperationException("insufficient points")));

        Assert.Same(ex, strategy.Calls[0].Exception);
        Assert.True(strategy.Calls[0].WorkRan);
    }

    [Fact]
    public async Task BadInput_FailsAsAPipelineDoesAndRecordsNoCall()
    {
        var strategy = new FakeLockStrategy();

        await Assert.ThrowsAsync<ArgumentException>(async () => await strategy.ExecuteAsync(default(LockKeySet), (_, _) => ValueTask.CompletedTask));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await strategy.ExecuteAsync(Alice, (Func<LockContext, CancellationToken, ValueTask>)null!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await strategy.ExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask, TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => strategy.FailCall(0, FakeLockFailure.Timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => strategy.FailCall(1, (FakeLockFailure)99));
        Assert.Throws<ArgumentException>(() => strategy.FailKey(default, FakeLockFailure.Timeout));

        Assert.Empty(strategy.Calls);
    }

    [Fact]
    public async Task Cancelled_ThrowsWithoutRunningTheWork()
    {
        var strategy = new FakeLockStrategy();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await strategy.ExecuteAsync(Alice, (_, _) => ValueTask.CompletedTask, cancellationToken: cancelled.Token));

        Assert.False(strategy.Calls[0].WorkRan);
    }

    private sealed class Ledger;
}
