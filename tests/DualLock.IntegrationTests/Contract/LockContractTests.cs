using System.Diagnostics;
using DualLock.TestWorker;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Contract;

/// <summary>
/// The contract every stage keeps, run against each provider on the real servers (one small subclass
/// per provider, see <c>ContractSuites.cs</c>). Cases that only some stages can keep live in the
/// subclasses <see cref="ExclusiveLockContractTests{TProvider}"/> and <see cref="LeasedLockContractTests{TProvider}"/>;
/// a provider that does not derive from one names the reason with <see cref="NotApplicableAttribute"/>.
/// </summary>
/// <typeparam name="TProvider">The stage under test.</typeparam>
public abstract partial class LockContractTests<TProvider> : IAsyncLifetime
    where TProvider : ContractProvider, new()
{
    /// <summary>A wait that must run out while the key is held elsewhere.</summary>
    protected static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(300);

    /// <summary>Slack for "at once" and "promptly": far above any correct answer, far below a wait that never ended.</summary>
    protected static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    protected TProvider Provider { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => Provider.InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        await Provider.DisposeAsync();
    }

    [Theory]
    [ContractCase(ContractCase.ZeroWait)]
    [InlineData(Contender.SamePipeline)]
    [InlineData(Contender.OtherPipeline)]
    public async Task TryExecuteAsync_ZeroWait_RefusedAtOnceWhileHeldAcquiredWhenFree(Contender contender)
    {
        var key = await Provider.NewKeyAsync();
        var holding = Provider.CreatePipeline();
        var trying = contender == Contender.SamePipeline ? holding : Provider.CreatePipeline();

        await AssertAcquiresAtOnceAsync(trying, key, "A zero wait on a free key must acquire.");

        await using (var holder = await Holder.StartAsync(holding, key))
        {
            var ran = false;
            var clock = Stopwatch.StartNew();
            var acquired = await trying.TryExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, TimeSpan.Zero, Ct);
            clock.Stop();

            Assert.False(acquired, "A zero wait must not acquire a key held elsewhere.");
            Assert.False(ran, "The work must not run when the lock was not acquired.");
            Assert.True(clock.Elapsed < Prompt, $"A zero wait tries once; it answered after {clock.ElapsedMilliseconds} ms.");
            await holder.ReleaseAsync();
        }

        await AssertAcquiresAtOnceAsync(trying, key, "A zero wait right after the holder released must acquire.");
    }

    [Theory]
    [ContractCase(ContractCase.Timeout)]
    [InlineData(Contender.SamePipeline)]
    [InlineData(Contender.OtherPipeline)]
    public async Task ExecuteAsync_WaitRunsOutWhileHeld_ThrowsTimeoutNamingResourceAndHolderKeepsLock(Contender contender)
    {
        var key = await Provider.NewKeyAsync();
        var holding = Provider.CreatePipeline();
        var waiting = contender == Contender.SamePipeline ? holding : Provider.CreatePipeline();
        await using var holder = await Holder.StartAsync(holding, key);
        var ran = false;

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await waiting.ExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, ShortWait, Ct));
        clock.Stop();

        Assert.Equal(key.Resource, ex.Resource);
        Assert.Contains(key.Resource, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Id, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.Stage, waiting.StageNames);
        Assert.False(ran);
        Assert.InRange(clock.Elapsed, ShortWait - TimeSpan.FromMilliseconds(50), ShortWait + Prompt);

        var attempt = await waiting.TryExecuteAsync(key, (_, _) => { ran = true; return ValueTask.FromResult(1); }, ShortWait, Ct);
        Assert.False(attempt.Acquired, "TryExecuteAsync reports the same timeout as not acquired.");
        Assert.False(ran);

        // The holder is unaffected: still the only one, its work not cancelled, and it ends normally.
        Assert.False(await TryOnceAsync(Provider.CreatePipeline(), key), "The key must still be held after waiters timed out.");
        Assert.False(holder.WorkToken.IsCancellationRequested, "A waiter's timeout must not cancel the holder's work.");
        await holder.ReleaseAsync();

        // Waiters that gave up left nothing behind: anyone takes the key at once.
        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), key, "After the holder released, another pipeline must acquire at once.");
    }

    [Theory]
    [ContractCase(ContractCase.CancelWhileWaiting)]
    [InlineData(Contender.SamePipeline)]
    [InlineData(Contender.OtherPipeline)]
    public async Task ExecuteAsync_CancelledWhileWaiting_ThrowsCancelledPromptlyAndLeavesNoState(Contender contender)
    {
        var key = await Provider.NewKeyAsync();
        var holding = Provider.CreatePipeline();
        var waiting = contender == Contender.SamePipeline ? holding : Provider.CreatePipeline();
        await using var holder = await Holder.StartAsync(holding, key);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var ran = false;

        var wait = waiting.ExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, TimeSpan.FromSeconds(60), cancel.Token).AsTask();

        // Let it reach its wait (if it has not yet, it is cancelled while acquiring, which must behave the same).
        await Task.Delay(200, Ct);
        Assert.False(wait.IsCompleted, "The waiter must still be waiting: the key is held.");
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Holder.Bound));
        clock.Stop();

        Assert.True(clock.Elapsed < Prompt, $"Cancellation took {clock.ElapsedMilliseconds} ms to end the wait.");
        Assert.False(ran);
        Assert.False(await TryOnceAsync(Provider.CreatePipeline(), key), "A cancelled waiter must not end the holder's lock.");
        await holder.ReleaseAsync();

        // Nothing of the cancelled waiter is left: anyone takes the key at once.
        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), key, "After the holder released, another pipeline must acquire at once.");
        await AssertAcquiresAtOnceAsync(waiting, key, "After the holder released, the cancelled waiter's pipeline must acquire at once.");
    }

    [Fact]
    [ContractCase(ContractCase.CancelWhileHolding)]
    public async Task ExecuteAsync_CancelledWhileHolding_WorkTokenFiresAndEveryStageIsReleased()
    {
        var key = await Provider.NewKeyAsync();
        var pipeline = Provider.CreatePipeline();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = pipeline.ExecuteAsync(key, async (ctx, ct) =>
        {
            await Provider.WriteMarkAsync(ctx, "cancelled");
            running.SetResult(ct);
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        }, cancellationToken: cancel.Token).AsTask();
        var workToken = await running.Task.WaitAsync(Holder.Bound, Ct);
        await cancel.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Holder.Bound));
        Assert.True(workToken.IsCancellationRequested, "The caller's cancellation must reach the work's token.");
        Assert.IsNotType<LockLeaseLostException>(ex.InnerException);

        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), key, "Another pipeline must acquire at once after the cancelled holder.");
        await AssertAcquiresAtOnceAsync(pipeline, key, "The same pipeline must acquire at once after the cancelled holder.");
        if (Provider.HasTransaction)
        {
            Assert.Null(await Provider.CommittedNoteAsync(key));
        }
    }

    [Fact]
    [ContractCase(ContractCase.ReleaseOnThrow)]
    public async Task ExecuteAsync_WorkThrows_RethrowsReleasesEveryStageAndRollsBack()
    {
        var key = await Provider.NewKeyAsync();
        var pipeline = Provider.CreatePipeline();
        var failure = new InvalidOperationException("work failed on purpose");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(key, async (ctx, _) =>
        {
            await Provider.WriteMarkAsync(ctx, "thrown");
            throw failure;
        }, cancellationToken: Ct));
        Assert.Same(failure, ex);

        await AssertAcquiresAtOnceAsync(Provider.CreatePipeline(), key, "Another pipeline must acquire at once after the work threw.");
        Assert.True(
            await pipeline.TryExecuteAsync(key, (ctx, _) => Provider.WriteMarkAsync(ctx, "committed"), TimeSpan.Zero, Ct),
            "The same pipeline must acquire at once after the work threw.");
        if (Provider.HasTransaction)
        {
            // The mark of the work that threw is gone; the later one shows the check sees a commit.
            Assert.Equal("committed", await Provider.CommittedNoteAsync(key));
            Assert.Equal(1, await Provider.CommittedMarksAsync());
        }
    }

    [Fact]
    [ContractCase(ContractCase.NoLeakedState)]
    public async Task ExecuteAsync_ThousandsOfDistinctKeysSomeContended_LeavesNoPerKeyState()
    {
        var keys = Enumerable.Range(0, Provider.LeakCheckKeys).Select(i => new LockKey("contract", $"k{i}")).ToArray();
        await Provider.PrepareKeysAsync(keys);
        var first = Provider.CreatePipeline();
        var second = Provider.CreatePipeline();

        // The probe can see state: a held key shows up in it.
        await using (var holder = await Holder.StartAsync(first, keys[0]))
        {
            Assert.NotEmpty(await Provider.FindHeldStateAsync(keys[..1]));
            await holder.ReleaseAsync();
        }

        long executions = 0;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, keys.Length),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct },
            async (i, ct) =>
            {
                // Every eighth key is taken by both pipelines at once, so the waiting and hand-over paths run too.
                var pipelines = i % 8 == 0 ? [first, second] : new[] { i % 2 == 0 ? first : second };
                await Task.WhenAll(pipelines.Select(p => p.ExecuteAsync(keys[i], (ctx, _) => Provider.WriteMarkAsync(ctx, "n"), cancellationToken: ct).AsTask()));
                Interlocked.Add(ref executions, pipelines.Length);
            });

        var left = await Provider.FindHeldStateAsync(keys);
        Assert.True(left.Count == 0, $"State left after {executions} executions on {keys.Length} keys: {string.Join("; ", left)}");
        if (Provider.HasTransaction)
        {
            Assert.Equal(executions, await Provider.CommittedMarksAsync());
        }
    }

    /// <summary>Runs the racy counter in this process and in a worker process at once; returns the final count and what an exact lock gives.</summary>
    protected async Task<(long Final, long Expected)> RunCounterInTwoProcessesAsync()
    {
        const int tasks = 4;
        const int iterations = 20;
        var key = await Provider.NewKeyAsync();
        var db = (await Servers.SharedRedisAsync()).GetDatabase();
        var data = Provider.Prefix + "-data:";
        RedisKey counter = data + "counter", ready = data + "ready", go = data + "go";
        var pipeline = Provider.CreatePipeline(wait: TimeSpan.FromSeconds(60));

        await using var worker = WorkerProcess.Start(
            "contract-counter", Provider.Name, Provider.Prefix, Provider.TableName, key.Resource, key.Id, $"{tasks}", $"{iterations}", counter!, ready!, go!);
        var result = worker.ResultAsync(TimeSpan.FromSeconds(120));
        var readied = WaitForKeyAsync(db, ready);
        if (await Task.WhenAny(readied, result) == result)
        {
            await result; // the worker ended before it was ready: its error surfaces here
            Assert.Fail("The worker finished without starting its half.");
        }

        await readied;
        await db.StringSetAsync(go, "1", TimeSpan.FromMinutes(5));
        var local = await ContractCounter.RunAsync(pipeline, db, key, counter, tasks, iterations, Ct);
        var remote = (await result).GetProperty("executions").GetInt64();

        Assert.Equal(tasks * iterations, local);
        Assert.Equal(tasks * iterations, remote);
        var final = (long?)await db.StringGetAsync(counter) ?? 0;
        TestContext.Current.TestOutputHelper?.WriteLine($"{Provider.Name}: counter {final} after {local + remote} increments over two processes");
        return (final, local + remote);
    }

    /// <summary>One zero-wait attempt must acquire; when it does not, the message shows the state the stages still keep for the key.</summary>
    protected async Task AssertAcquiresAtOnceAsync(LockPipeline pipeline, LockKey key, string because)
    {
        if (!await TryOnceAsync(pipeline, key))
        {
            Assert.Fail($"{because} State still kept for the key: {string.Join("; ", await Provider.FindHeldStateAsync([key]))}");
        }
    }

    /// <summary>One zero-wait attempt; true when it acquired and the work ran.</summary>
    protected static async Task<bool> TryOnceAsync(LockPipeline pipeline, LockKey key)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var ran = false;
        var acquired = await pipeline.TryExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, TimeSpan.Zero, Ct);
        Assert.Equal(acquired, ran);
        return acquired;
    }

    private static async Task WaitForKeyAsync(IDatabase db, RedisKey key)
    {
        var clock = Stopwatch.StartNew();
        while (!await db.KeyExistsAsync(key))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"The worker did not signal {key} within 60 s.");
            }

            await Task.Delay(5, Ct);
        }
    }
}
