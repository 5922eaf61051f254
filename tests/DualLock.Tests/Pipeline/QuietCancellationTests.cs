using DualLock.MySql;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Pipeline;

/// <summary>
/// A token the library cancels from a timer or a lease watchdog reaches MySqlConnector, whose cancel callback
/// throws on a session the server reset (mysql-net/MySqlConnector#871); unguarded, that exception ended the
/// fault search's worker process (exit 134). These fakes register such a throwing callback.
/// </summary>
public sealed class QuietCancellationTests
{
    private static readonly LockKey Key = new("account", "1");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void WaitDeadline_PassesWhileACallbackThrows_TheTimerDoesNotThrowAndTheTokenIsCancelled()
    {
        var time = new FakeTimeProvider();
        using var deadline = WaitDeadline.After(TimeSpan.FromSeconds(1), time, CancellationToken.None);
        var ran = false;
        using var throwing = deadline.Token.Register(() =>
        {
            ran = true;
            throw new System.Net.Sockets.SocketException(107); // as MySqlCommand.Cancel on a reset session
        });

        // FakeTimeProvider runs the timer's callback inside Advance: a throwing cancel would throw here, as it
        // throws on the real timer's thread-pool thread, where nothing catches it.
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(ran);
        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.Expired);
    }

    [Fact]
    public void WaitDeadline_CallerCancelsWhileACallbackThrows_TheCallerIsNotThrownAt()
    {
        using var caller = new CancellationTokenSource();
        using var deadline = WaitDeadline.After(TimeSpan.FromSeconds(30), TimeProvider.System, caller.Token);
        using var throwing = deadline.Token.Register(() => throw new System.Net.Sockets.SocketException(107));

        caller.Cancel();

        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.False(deadline.Expired);
    }

    [Fact]
    public void WaitDeadline_NothingLeft_IsCancelledAtOnce()
    {
        using var deadline = WaitDeadline.After(TimeSpan.Zero, TimeProvider.System, CancellationToken.None);

        Assert.True(deadline.Token.IsCancellationRequested);
        Assert.True(deadline.Expired);
    }

    [Fact]
    public async Task ExecuteAsync_LeaseLostWhileTheWorksTokenHasAThrowingCallback_TheStageIsNotThrownAtAndTheCallFails()
    {
        using var lease = new CancellationTokenSource();
        var pipeline = new LockPipelineBuilder { Name = "quiet" }.AddStage(new RecordingStage("redis", []) { Lease = lease.Token }).Build();
        Exception? thrownAtStage = null;

        await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(Key, async (_, token) =>
        {
            using var throwing = token.Register(() => throw new System.Net.Sockets.SocketException(107));
            try
            {
                lease.Cancel(); // the stage's watchdog declaring the lease lost
            }
            catch (Exception ex)
            {
                thrownAtStage = ex;
            }

            Assert.True(token.IsCancellationRequested);
            await Task.Yield();
        }, cancellationToken: Ct));

        Assert.Null(thrownAtStage);
    }
}
