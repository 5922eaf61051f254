using System.Diagnostics;
using DualLock.MySql;
using DualLock.Redis;
using MySqlConnector;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// A server that stops answering while a transaction opens (hung, not refused: the socket stays open) must not hold
/// the caller past its wait, with or without an outer lock whose acquire the transaction is prepared beside.
/// MySqlConnector reads the answer to BEGIN with neither a timeout nor the token, so without the stage's own bound the
/// call below never ends (each case timed out at 60 s before it).
/// </summary>
public sealed class MySqlTransactionHungServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ServerHangsAtBegin_NotAcquiredNearTheWait_TheWorkNeverRuns(bool pooled, bool behindRedisLock)
    {
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port);
        var connectionString = await ThroughAsync(proxy, pooled);
        proxy.HangOn = c => c.Contains("START TRANSACTION", StringComparison.OrdinalIgnoreCase);
        var pipeline = await PipelineAsync(connectionString, behindRedisLock);
        var ran = false;

        var clock = Stopwatch.StartNew();
        var outcome = await pipeline.TryExecuteAsync(NewKey(), (_, _) => { ran = true; return ValueTask.FromResult(1); }, cancellationToken: Ct);
        clock.Stop();

        Assert.False(ran, "The work ran although BEGIN was never answered.");
        Assert.False(outcome.Acquired, "The lock was reported acquired although BEGIN was never answered.");
        // The wait, the least a step is given (250 ms), and slack for a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The call took {clock.Elapsed.TotalSeconds:0.0} s with a {Wait.TotalSeconds} s wait.");
    }

    /// <summary>
    /// A pooled connection whose reset (on open) is never answered: MySqlConnector bounds that read only by the connection
    /// string's Connection Timeout (5 s here), so without the stage's own bound the call took 5.1 s.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerHangsAtConnectionReset_CallEndsNearTheWait(bool behindRedisLock)
    {
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port);
        var connectionString = await ThroughAsync(proxy, pooled: true);
        proxy.HangOn = c => c.Contains("RESET_CONNECTION", StringComparison.Ordinal);
        var pipeline = await PipelineAsync(connectionString, behindRedisLock);

        var clock = Stopwatch.StartNew();
        var ex = await Record.ExceptionAsync(async () => await pipeline.TryExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));
        clock.Stop();

        Assert.True(ex is null or LockException, $"Expected not acquired or a LockException, got {ex}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The call took {clock.Elapsed.TotalSeconds:0.0} s with a {Wait.TotalSeconds} s wait.");
    }

    /// <summary>
    /// Each caller let go at its deadline leaves a connection waiting for its BEGIN: past the stage's limit no other
    /// connection is opened into the hung server (LockUnavailableException at once), and once the server answers, the
    /// waiting connections close and the stage opens transactions again.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task ManyCallsIntoAHungServer_StopAtTheLimit_AndRecoverWhenItAnswers()
    {
        var real = new MySqlConnectionStringBuilder(Servers.MySql);
        await using var proxy = new MySqlCommandCountingProxy(real.Server, (int)real.Port);
        var connectionString = await ThroughAsync(proxy, pooled: false);
        proxy.HangOn = c => c.Contains("START TRANSACTION", StringComparison.OrdinalIgnoreCase);
        var pipeline = await PipelineAsync(connectionString, behindRedisLock: false);

        var hung = await Task.WhenAll(Enumerable.Range(0, UnansweredSteps.Limit).Select(_ =>
            pipeline.TryExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(1), cancellationToken: Ct).AsTask()));
        Assert.All(hung, outcome => Assert.False(outcome.Acquired));

        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<LockUnavailableException>(async () => await pipeline.TryExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(1), cancellationToken: Ct));
        Assert.True(clock.Elapsed < Wait, $"Past the limit the call still took {clock.Elapsed.TotalMilliseconds:0} ms.");
        Assert.Contains("answer an open or BEGIN", refused.InnerException?.Message, StringComparison.Ordinal);

        proxy.Resume();
        var recovered = false;
        for (var attempt = 0; attempt < 100 && !recovered; attempt++)
        {
            try
            {
                recovered = (await pipeline.TryExecuteAsync(NewKey(), (_, _) => ValueTask.FromResult(1), cancellationToken: Ct)).Acquired;
            }
            catch (LockUnavailableException)
            {
                await Task.Delay(100, Ct); // the answered BEGINs are rolled back and their connections closed
            }
        }

        Assert.True(recovered, "The stage never opened a transaction again after the server answered.");
    }

    private static async Task<string> ThroughAsync(MySqlCommandCountingProxy proxy, bool pooled)
    {
        var builder = new MySqlConnectionStringBuilder(Servers.MySql)
        {
            Server = "127.0.0.1",
            Port = (uint)proxy.Port,
            Pooling = pooled,
            SslMode = MySqlSslMode.None,
            DefaultCommandTimeout = 15,
            CancellationTimeout = 1,
            ApplicationName = Guid.NewGuid().ToString("N"), // a pool of its own
        };
        if (pooled)
        {
            // A pooled connection that has served once: its next open resets it.
            await using var warm = new MySqlConnection(builder.ConnectionString);
            await warm.OpenAsync(Ct);
        }

        return builder.ConnectionString;
    }

    private static async Task<LockPipeline> PipelineAsync(string connectionString, bool behindRedisLock)
    {
        var builder = new LockPipelineBuilder { Name = "tx-hung", WaitTimeout = Wait };
        if (behindRedisLock)
        {
            builder.AddRedisLock(await Servers.SharedRedisAsync());
        }

        return builder.AddMySqlTransaction(connectionString).Build();
    }
}
