namespace DualLock.IntegrationTests.Coordination;

/// <summary>The reader-writer contract on the in-process lock, plus its per-key memory.</summary>
public sealed class InProcessReaderWriterLockTests : ReaderWriterLockContractTests
{
    private readonly ReaderWriterLockStrategy _rw = ReaderWriterLockStrategy.CreateInProcess(new ReaderWriterLockOptions { Name = "rw-test" });

    [Fact]
    public async Task ExecuteAsync_TenThousandDistinctKeys_NoKeyStateLeft()
    {
        var keys = Enumerable.Range(0, 10_000).Select(_ => NewKey()).ToArray();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (key, ct) =>
        {
            await _rw.ExecuteReadAsync(key, Ok, Bound, ct);
            await _rw.ExecuteWriteAsync(key, Ok, Bound, ct);
            await _rw.TryExecuteWriteAsync(key, Ok, TimeSpan.Zero, ct);
        });

        Assert.Equal(0, _rw.ActiveKeyCount!());
    }

    protected override ReaderWriterLockStrategy Create() => _rw;
}
