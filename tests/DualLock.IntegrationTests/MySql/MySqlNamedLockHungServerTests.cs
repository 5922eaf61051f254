using System.Diagnostics;
using DualLock.MySql;
using MySqlConnector;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A server that stops answering during GET_LOCK (hung, not refused: the socket stays open) must not hold the
/// caller for the command timeout: the round trip is bounded by what is left of the pipeline's wait.
/// </summary>
public sealed class MySqlNamedLockHungServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_ServerHangsDuringGetLock_EndsNearTheWaitNotAtTheCommandTimeout()
    {
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port) { HangOn = c => c.Contains("GET_LOCK", StringComparison.Ordinal) };
        var throughProxy = new MySqlConnectionStringBuilder(Servers.MySql)
        {
            Server = "127.0.0.1",
            Port = (uint)proxy.Port,
            Pooling = false,
            SslMode = MySqlSslMode.None,
            DefaultCommandTimeout = 15, // the bound before: the whole command timeout
            CancellationTimeout = 1,    // after the deadline fires, how long MySqlConnector waits for KILL QUERY before closing the socket
        };
        var wait = TimeSpan.FromSeconds(1);
        var pipeline = new LockPipelineBuilder { Name = "named-hung", WaitTimeout = wait }.AddMySqlNamedLock(throughProxy.ConnectionString).Build();

        var clock = Stopwatch.StartNew();
        var ex = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(new LockKey("counter", Guid.NewGuid().ToString("N")), (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));
        clock.Stop();

        Assert.True(ex is LockTimeoutException or LockUnavailableException, $"Expected a timeout or unavailable, got {ex?.GetType().Name}: {ex?.Message}");
        // The wait, the least a round trip is given (250 ms), the cancellation timeout (1 s), and slack for a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"The call took {clock.Elapsed.TotalSeconds:0.0} s with a {wait.TotalSeconds} s wait.");
        Assert.True(((LockException)ex!).Elapsed < TimeSpan.FromSeconds(6), $"The exception reported {((LockException)ex!).Elapsed}.");
    }
}
