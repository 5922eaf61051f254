using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Coordination;

/// <summary>The in-process reader-writer lock's queue, driven step by step: order, timeouts on a fake clock, giving up, limits.</summary>
public sealed class InProcessReaderWriterLockTests
{
    private static readonly LockKey Key = new("rw", "1");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task TryExecuteReadAsync_WriterHolds_TimesOutExactlyAtTheWaitOnTheClock()
    {
        var rw = ReaderWriterLockStrategy.CreateInProcess(timeProvider: _time);
        using var writer = Held.Write(rw);

        var reader = rw.TryExecuteReadAsync(Key, Ok, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.False(reader.IsCompleted, "The reader gave up before its wait ended.");

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False((await reader.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Acquired);
    }

    [Fact]
    public async Task ExecuteWriteAsync_CancelledWhileQueuedAheadOfReaders_ReadersBehindItGoAtOnce()
    {
        var rw = ReaderWriterLockStrategy.CreateInProcess(timeProvider: _time);
        using var first = Held.Read(rw);
        using var cancel = new CancellationTokenSource();
        var writer = rw.ExecuteWriteAsync(Key, Ok, TimeSpan.FromMinutes(1), cancel.Token).AsTask();
        var reader = rw.TryExecuteReadAsync(Key, Ok, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.False(reader.IsCompleted, "The reader went ahead of the queued writer.");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer);
        Assert.True((await reader.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Acquired, "The reader stayed behind a writer that had left.");
    }

    [Fact]
    public async Task TryExecuteWriteAsync_TimedOutWhileQueuedAheadOfReaders_ReadersBehindItGo()
    {
        var rw = ReaderWriterLockStrategy.CreateInProcess(timeProvider: _time);
        using var first = Held.Read(rw);
        var writer = rw.TryExecuteWriteAsync(Key, Ok, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken).AsTask();
        var reader = rw.TryExecuteReadAsync(Key, Ok, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken).AsTask();

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False((await writer.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Acquired);
        Assert.True((await reader.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Acquired);
    }

    [Fact]
    public async Task ExecuteAsync_ReleaseOrder_ReadersBeforeAWriterGoTogetherThenTheWriterThenTheReadersAfterIt()
    {
        var rw = ReaderWriterLockStrategy.CreateInProcess(timeProvider: _time);
        var order = new List<string>();
        var writer = Held.Write(rw);
        ValueTask<bool> Record(string name)
        {
            lock (order)
            {
                order.Add(name);
            }

            return ValueTask.FromResult(true);
        }

        var wait = TimeSpan.FromMinutes(1);
        var calls = new[]
        {
            rw.ExecuteReadAsync(Key, (_, _) => Record("r1"), wait, TestContext.Current.CancellationToken).AsTask(),
            rw.ExecuteReadAsync(Key, (_, _) => Record("r2"), wait, TestContext.Current.CancellationToken).AsTask(),
            rw.ExecuteWriteAsync(Key, (_, _) => Record("w"), wait, TestContext.Current.CancellationToken).AsTask(),
            rw.ExecuteReadAsync(Key, (_, _) => Record("r3"), wait, TestContext.Current.CancellationToken).AsTask(),
        };
        writer.Dispose();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Equal(["w", "r3"], order[2..]);
        Assert.Equal(["r1", "r2"], order[..2].Order());
    }

    [Fact]
    public async Task TryExecuteReadAsync_QueueFull_RefusedWithoutWaiting()
    {
        var rw = ReaderWriterLockStrategy.CreateInProcess(new ReaderWriterLockOptions { MaxQueueLength = 2 }, _time);
        using var writer = Held.Write(rw);
        var queued = rw.TryExecuteReadAsync(Key, Ok, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken).AsTask();

        var refused = await rw.TryExecuteReadAsync(Key, Ok, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        Assert.False(refused.Acquired);
        Assert.False(queued.IsCompleted);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("rw", 0)]
    public void CreateInProcess_InvalidOptions_Throws(string name, int maxQueueLength)
        => Assert.Throws<ArgumentException>(() => ReaderWriterLockStrategy.CreateInProcess(new ReaderWriterLockOptions { Name = name, MaxQueueLength = maxQueueLength }));

    [Theory]
    [InlineData(0, 10)]
    [InlineData(4, 3)]
    public void AddInProcessSemaphore_InvalidOptions_Throws(int permits, int maxQueueLength)
        => Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddInProcessSemaphore(new SemaphoreOptions { Permits = permits, MaxQueueLength = maxQueueLength }));

    private static ValueTask<bool> Ok(LockContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    /// <summary>A reader or writer that holds <see cref="Key"/> until disposed (entered synchronously: the gate is free).</summary>
    private sealed class Held : IDisposable
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Held(ReaderWriterLockStrategy rw, bool write)
        {
            Func<LockContext, CancellationToken, ValueTask<bool>> work = async (_, _) =>
            {
                await _release.Task;
                return true;
            };
            Done = write ? rw.ExecuteWriteAsync(Key, work, TimeSpan.Zero).AsTask() : rw.ExecuteReadAsync(Key, work, TimeSpan.Zero).AsTask();
            Assert.False(Done.IsCompleted, "The holder did not get the key at once.");
        }

        public Task Done { get; }

        public static Held Read(ReaderWriterLockStrategy rw) => new(rw, write: false);

        public static Held Write(ReaderWriterLockStrategy rw) => new(rw, write: true);

        public void Dispose() => _release.TrySetResult();
    }
}
