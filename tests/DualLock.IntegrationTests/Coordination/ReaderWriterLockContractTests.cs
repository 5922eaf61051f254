using System.Diagnostics;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>
/// The contract every reader-writer lock keeps (in-process and Redis): readers share, a writer is alone,
/// a waiting writer holds back later readers, waits are bounded and cancellable, and a throw releases.
/// </summary>
public abstract class ReaderWriterLockContractTests : IAsyncLifetime
{
    /// <summary>A bound for things that should happen at once, with slack for a loaded 2-core machine.</summary>
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>A strategy of one "process": two of them share nothing local (Redis) or everything (in-process returns the same one).</summary>
    protected abstract ReaderWriterLockStrategy Create();

    protected static LockKey NewKey() => new("rw", Guid.NewGuid().ToString("N")[..16]);

    [Fact]
    public async Task ExecuteReadAsync_EightReaders_AllHoldAtOnce()
    {
        var rw = Create();
        var key = NewKey();
        var inside = 0;
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readers = Enumerable.Range(0, 8).Select(_ => rw.ExecuteReadAsync(key, async (ctx, ct) =>
        {
            if (Interlocked.Increment(ref inside) == 8)
            {
                allIn.TrySetResult();
            }

            // Each reader stays until all eight are inside: only a lock that lets readers share ends this.
            await allIn.Task.WaitAsync(Bound, ct);
            Assert.Null(ctx.FencingToken);
            return true;
        }, Bound, Ct).AsTask()).ToArray();

        Assert.All(await Task.WhenAll(readers), Assert.True);
    }

    [Fact]
    public async Task ExecuteWriteAsync_WhileHeld_ExcludesReadersAndWriters()
    {
        var rw = Create();
        var other = Create();
        var key = NewKey();
        var (writer, releaseWriter) = Hold(rw, key, write: true);
        await writer.Entered.WaitAsync(Bound, Ct);

        Assert.False((await other.TryExecuteReadAsync(key, Ok, TimeSpan.FromMilliseconds(200), Ct)).Acquired, "A reader got in while a writer held the key.");
        Assert.False((await other.TryExecuteWriteAsync(key, Ok, TimeSpan.FromMilliseconds(200), Ct)).Acquired, "A second writer got in.");

        releaseWriter();
        await writer.Done.WaitAsync(Bound, Ct);
        var (reader, releaseReader) = Hold(rw, key, write: false);
        await reader.Entered.WaitAsync(Bound, Ct);
        Assert.False((await other.TryExecuteWriteAsync(key, Ok, TimeSpan.FromMilliseconds(200), Ct)).Acquired, "A writer got in while a reader held the key.");
        Assert.True((await other.TryExecuteReadAsync(key, Ok, TimeSpan.FromSeconds(5), Ct)).Acquired, "A second reader must share the key.");
        releaseReader();
        await reader.Done.WaitAsync(Bound, Ct);
        Assert.True((await other.TryExecuteWriteAsync(key, Ok, TimeSpan.FromSeconds(5), Ct)).Acquired, "The key must be free for a writer once the readers left.");
    }

    [Fact]
    public async Task ExecuteReadAsync_WriterWaiting_LaterReaderGoesAfterTheWriter()
    {
        var rw = Create();
        var other = Create();
        var key = NewKey();
        var order = new List<string>();
        var (first, releaseFirst) = Hold(rw, key, write: false);
        await first.Entered.WaitAsync(Bound, Ct);

        var writer = other.ExecuteWriteAsync(key, (_, _) => { lock (order) { order.Add("writer"); } return ValueTask.FromResult(true); }, Bound, Ct).AsTask();

        // Once the writer waits, a new reader is held back even though only readers hold the key.
        var blocked = await EventuallyAsync(async () => !(await rw.TryExecuteReadAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired);
        Assert.True(blocked, "A new reader still got in while a writer was waiting: writers can starve.");

        var reader = rw.ExecuteReadAsync(key, (_, _) => { lock (order) { order.Add("reader"); } return ValueTask.FromResult(true); }, Bound, Ct).AsTask();
        await Task.Delay(200, Ct);
        Assert.False(reader.IsCompleted, "The later reader went ahead of the waiting writer.");

        releaseFirst();
        await Task.WhenAll(first.Done, writer, reader).WaitAsync(Bound, Ct);
        Assert.Equal(["writer", "reader"], order);
    }

    [Fact]
    public async Task ExecuteWriteAsync_ContinuousOverlappingReaders_WriterIsNotStarved()
    {
        var rw = Create();
        var other = Create();
        var key = NewKey();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        long reads = 0;

        // Four readers in a loop, each holding 20 ms: the key is never free of readers unless the lock stops new ones for a writer.
        var readers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            await Task.Delay(i * 5, stop.Token);
            while (!stop.IsCancellationRequested)
            {
                await rw.TryExecuteReadAsync(key, async (_, ct) =>
                {
                    await Task.Delay(20, ct);
                    Interlocked.Increment(ref reads);
                    return true;
                }, TimeSpan.FromSeconds(5), stop.Token);
            }
        })).ToArray();
        await EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref reads) > 20));

        var written = await other.TryExecuteWriteAsync(key, Ok, TimeSpan.FromSeconds(5), Ct);
        await stop.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
        Assert.True(written.Acquired, $"The writer was starved by {Interlocked.Read(ref reads)} reads.");
    }

    [Fact]
    public async Task ExecuteAsync_HeldPastTheWait_ThrowsTimeoutOrReportsNotAcquired()
    {
        var rw = Create();
        var other = Create();
        var key = NewKey();
        var (writer, release) = Hold(rw, key, write: true);
        await writer.Entered.WaitAsync(Bound, Ct);
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => other.ExecuteReadAsync(key, Ok, TimeSpan.FromMilliseconds(300), Ct).AsTask());
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"Gave up after {clock.ElapsedMilliseconds} ms of a 300 ms wait.");
        Assert.Equal(key.Resource, ex.Resource);
        Assert.DoesNotContain(key.Id, ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LockTimeoutException>(() => other.ExecuteWriteAsync(key, Ok, TimeSpan.FromMilliseconds(100), Ct).AsTask());
        Assert.False((await other.TryExecuteWriteAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired);

        release();
        await writer.Done.WaitAsync(Bound, Ct);
        Assert.True((await other.TryExecuteReadAsync(key, Ok, TimeSpan.FromSeconds(5), Ct)).Acquired, "Timed-out waiters must leave nothing behind.");
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileWaiting_ThrowsAndLeavesTheQueue()
    {
        var rw = Create();
        var other = Create();
        var key = NewKey();
        var (reader, release) = Hold(rw, key, write: false);
        await reader.Entered.WaitAsync(Bound, Ct);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other.ExecuteWriteAsync(key, Ok, Bound, cancel.Token).AsTask());

        // The cancelled writer no longer holds readers back, and the key is free once the reader leaves.
        Assert.True((await rw.TryExecuteReadAsync(key, Ok, TimeSpan.FromSeconds(5), Ct)).Acquired, "A cancelled writer still blocked readers.");
        release();
        await reader.Done.WaitAsync(Bound, Ct);
        Assert.True((await other.TryExecuteWriteAsync(key, Ok, TimeSpan.FromSeconds(5), Ct)).Acquired);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrows_ReleasesAndRethrows()
    {
        var rw = Create();
        var key = NewKey();

        await Assert.ThrowsAsync<InvalidOperationException>(() => rw.ExecuteWriteAsync<bool>(key, (_, _) => throw new InvalidOperationException("boom"), Bound, Ct).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => rw.ExecuteReadAsync<bool>(key, (_, _) => throw new InvalidOperationException("boom"), Bound, Ct).AsTask());

        Assert.True((await Create().TryExecuteWriteAsync(key, Ok, TimeSpan.FromSeconds(2), Ct)).Acquired, "A throwing holder left the key held.");
    }

    protected static ValueTask<bool> Ok(LockContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(10, Ct);
        }

        return false;
    }

    /// <summary>Holds the key as a reader or writer until released.</summary>
    protected static ((Task Entered, Task Done) Holding, Action Release) Hold(ReaderWriterLockStrategy rw, LockKey key, bool write)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<LockContext, CancellationToken, ValueTask<bool>> work = async (_, ct) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
            return true;
        };
        var done = write ? rw.ExecuteWriteAsync(key, work, Bound, Ct).AsTask() : rw.ExecuteReadAsync(key, work, Bound, Ct).AsTask();
        return ((entered.Task, done), () => release.TrySetResult());
    }
}
