using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Pipeline;

/// <summary>Every call shape goes through ExecuteCoreAsync; an optimistic pipeline re-runs the work on a conflict.</summary>
public sealed class LockStrategyExtensionsTests
{
    private static readonly LockKey A = new("account", "a");
    private static readonly LockKey B = new("account", "b");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_WithState_PassesTheStateToAStaticLambda()
    {
        var pipeline = new LockPipelineBuilder().AddInProcessLock().Build();

        var result = await pipeline.ExecuteAsync(A, 40, static (_, state, _) => ValueTask.FromResult(state + 2), cancellationToken: Ct);
        var seen = new List<string>();
        await pipeline.ExecuteAsync(A, seen, static (ctx, list, _) => { list.Add(ctx.Keys.ToString()); return ValueTask.CompletedTask; }, cancellationToken: Ct);

        Assert.Equal(42, result);
        Assert.Equal(["account:a"], seen);
    }

    [Fact]
    public async Task TryExecuteAsync_KeyHeld_ReportsNotAcquiredWhileExecuteAsyncThrows()
    {
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.Zero }.AddInProcessLock().Build();
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = pipeline.ExecuteAsync(A, async (_, _) => { held.SetResult(); await release.Task; }, cancellationToken: Ct).AsTask();
        await held.Task;

        var attempt = await pipeline.TryExecuteAsync(A, 1, static (_, s, _) => ValueTask.FromResult(s), cancellationToken: Ct);
        var voidAttempt = await pipeline.TryExecuteAsync(A, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct);
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(A, (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));

        release.SetResult();
        await holder;
        Assert.False(attempt.Acquired);
        Assert.False(voidAttempt);
        Assert.True(await pipeline.TryExecuteAsync(A, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));
    }

    [Fact]
    public async Task ExecuteAsync_KeyArrayAndCollectionExpression_ConvertToOneCanonicalSet()
    {
        var pipeline = new LockPipelineBuilder().AddInProcessLock().Build();
        LockKey[] array = [B, A, B];

        var fromArray = await pipeline.ExecuteAsync(array, (ctx, _) => ValueTask.FromResult(ctx.Keys), cancellationToken: Ct);
        var fromExpression = await pipeline.ExecuteAsync([A, B], (ctx, _) => ValueTask.FromResult(ctx.Keys), cancellationToken: Ct);
        var single = await pipeline.ExecuteAsync(A, (ctx, _) => ValueTask.FromResult(ctx.Keys), cancellationToken: Ct);

        Assert.Equal([A, B], fromArray);
        Assert.Equal(fromArray, fromExpression);
        Assert.Equal(A, Assert.Single(single));
    }

    [Fact]
    public async Task ExecuteCoreAsync_DefaultKeySet_ThrowsArgumentException()
    {
        var pipeline = new LockPipelineBuilder().AddNoLock().Build();

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await pipeline.ExecuteAsync(default(LockKeySet), (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        Assert.Equal("keys", ex.ParamName);
    }

    [Fact]
    public void LockKeySet_BadKeys_PreciseArgumentExceptions()
    {
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => new LockKeySet(default(LockKey))).ParamName);
        Assert.Throws<ArgumentNullException>(() => new LockKeySet((IEnumerable<LockKey>)null!));
        Assert.Contains("At least one", Assert.Throws<ArgumentException>(() => new LockKeySet(Array.Empty<LockKey>())).Message, StringComparison.Ordinal);
        Assert.Contains("Lock key 1 is default", Assert.Throws<ArgumentException>(() => new LockKeySet([A, default])).Message, StringComparison.Ordinal);
        var tooMany = Enumerable.Range(0, LockKeySet.MaxKeys + 1).Select(i => new LockKey("account", i));
        Assert.Contains("at most 64 distinct", Assert.Throws<ArgumentException>(() => new LockKeySet(tooMany)).Message, StringComparison.Ordinal);
        Assert.Equal(LockKeySet.MaxKeys, new LockKeySet(Enumerable.Range(0, 200).Select(i => new LockKey("account", i % LockKeySet.MaxKeys))).Count);
    }

    [Fact]
    public async Task ConflictRetry_WorkConflictsTwice_RerunsWithTheAttemptCounted()
    {
        var pipeline = Optimistic(maxAttempts: 5, out _);
        var attempts = new List<int>();

        var result = await pipeline.ExecuteAsync(A, attempts, static (ctx, seen, _) =>
        {
            seen.Add(ctx.Attempt);
            Assert.True(ctx.RerunsOnConflict);
            return ctx.Attempt < 3 ? throw new OptimisticConflictException() : ValueTask.FromResult("kept");
        }, cancellationToken: Ct);

        Assert.Equal("kept", result);
        Assert.Equal([1, 2, 3], attempts);
    }

    [Fact]
    public async Task ConflictRetry_EveryAttemptConflicts_ThrowsLockConflictAfterMaxAttempts()
    {
        var pipeline = Optimistic(maxAttempts: 4, out var log);
        var runs = 0;

        var ex = await Assert.ThrowsAsync<LockConflictException>(async () =>
            await pipeline.ExecuteAsync(A, (_, _) => { runs++; throw new OptimisticConflictException(); }, cancellationToken: Ct));

        Assert.Equal(4, ex.Attempts);
        Assert.Equal(4, runs);
        Assert.Equal("account", ex.Resource);
        Assert.IsType<OptimisticConflictException>(ex.InnerException);
        Assert.Equal(4, log.Count(l => l.StartsWith("release", StringComparison.Ordinal) && l.Contains("rollback", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ConflictRetry_OtherFailure_IsNotRerun()
    {
        var pipeline = Optimistic(maxAttempts: 4, out _);
        var runs = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(A, (_, _) => { runs++; throw new InvalidOperationException("not a conflict"); }, cancellationToken: Ct));

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task NoConflictRetry_ConflictReachesTheCaller()
    {
        var pipeline = new LockPipelineBuilder().AddNoLock().Build();

        await Assert.ThrowsAsync<OptimisticConflictException>(async () =>
            await pipeline.ExecuteAsync(A, (ctx, _) => ctx.RerunsOnConflict ? ValueTask.CompletedTask : throw new OptimisticConflictException(), cancellationToken: Ct));
    }

    private static LockPipeline Optimistic(int maxAttempts, out List<string> log)
    {
        log = [];
        var stage = new RecordingStage("tx", log);
        return new LockPipelineBuilder
        {
            TimeProvider = new AutoAdvancingTime(),
            ConflictRetry = new ConflictRetryOptions { MaxAttempts = maxAttempts, RetryDelay = TimeSpan.FromMilliseconds(1), MaxRetryDelay = TimeSpan.FromMilliseconds(2) },
        }.AddStage(stage).Build();
    }

    /// <summary>Backoff delays complete at once: the time moves on by itself whenever a timer is created.</summary>
    private sealed class AutoAdvancingTime : FakeTimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            {
                Advance(dueTime);
            }

            return timer;
        }
    }
}
