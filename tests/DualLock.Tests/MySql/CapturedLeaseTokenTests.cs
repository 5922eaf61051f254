namespace DualLock.Tests.MySql;

/// <summary>
/// The transaction stage captures <see cref="LockContext.LeaseLost"/> when it acquires and reads it
/// just before committing, after the pipeline has disposed the source behind it. These pin the runtime
/// behaviour that relies on: a token outlives its disposed source and still reports (and never throws).
/// </summary>
public sealed class CapturedLeaseTokenTests
{
    [Fact]
    public void IsCancellationRequested_SourceCancelledThenDisposed_StaysTrue()
    {
        var source = new CancellationTokenSource();
        var captured = source.Token;
        source.Cancel();
        source.Dispose();

        Assert.True(captured.IsCancellationRequested);
    }

    [Fact]
    public void IsCancellationRequested_SourceDisposedWithoutCancel_StaysFalse()
    {
        var source = new CancellationTokenSource();
        var captured = source.Token;
        source.Dispose();

        Assert.False(captured.IsCancellationRequested);
    }
}
