using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// One row per Redis error of the table in docs/failures.md: what an acquire, a renewal and a release do
/// when the lock's script is answered with it. The connection is real; only the chosen script's answer is replaced.
/// </summary>
public sealed class RedisErrorTableTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every row: the error Redis answers, and how an acquire ends ("unavailable", "refused" or "acquired").</summary>
    public static TheoryData<string, string> AcquireRows => new()
    {
        { "NOREPLICAS Not enough good replicas to write.", "unavailable" },
        { "OOM command not allowed when used memory > 'maxmemory'.", "unavailable" },
        { "READONLY You can't write against a read only replica.", "unavailable" },
        { "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", "unavailable" },
        { "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", "unavailable" },
        { "LOADING Redis is loading the dataset in memory", "unavailable" },
        { "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", "unavailable" },
        { "TRYAGAIN Multiple keys request during rehashing of slot", "unavailable" },
        { "CLUSTERDOWN The cluster is down", "unavailable" },
        { "NOPERM User app has no permissions to run the 'evalsha' command", "refused" },
        { "NOAUTH Authentication required.", "refused" },
        { "WRONGTYPE Operation against a key holding the wrong kind of value", "refused" },
        { "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 1a2b, on @user_script:1.", "refused" },
        { "NOSCRIPT No matching script. Please use EVAL.", "acquired" },
    };

    /// <summary>The errors of the renewal and release rows (every class of the table).</summary>
    public static TheoryData<string, bool> LaterRows => new()
    {
        { "NOREPLICAS Not enough good replicas to write.", false },
        { "OOM command not allowed when used memory > 'maxmemory'.", false },
        { "READONLY You can't write against a read only replica.", true },
        { "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", false },
        { "LOADING Redis is loading the dataset in memory", true },
        { "CLUSTERDOWN The cluster is down", true },
        { "NOPERM User app has no permissions to run the 'eval' command", false },
        { "ERR user_script:1: Script attempted to access nonexistent global variable 'x'", false },
    };

    /// <summary>The errors of the renewal rows: every one is an unconfirmed renewal.</summary>
    public static TheoryData<string> RenewRows => new(LaterRows.Select(row => row.Data.Item1));

    [Theory]
    [MemberData(nameof(AcquireRows))]
    public async Task Acquire_ScriptAnswersError_EndsAsTheTableSays(string error, string expected)
    {
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), FaultInjectingRedis.Once(RedisLockScripts.Acquire, () => new RedisServerException(error)));
        var pipeline = Pipeline(new RedisLockStage(redis, new RedisLockOptions { Name = "redis-a" }), Bound);
        var key = NewKey();
        var ran = false;

        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, cancellationToken: Ct));

        var code = error.Split(' ')[0];
        switch (expected)
        {
            case "unavailable":
                var unavailable = Assert.IsType<LockUnavailableException>(outcome);
                Assert.Equal("redis-a", unavailable.Stage);
                Assert.StartsWith(code, Assert.IsType<RedisServerException>(unavailable.InnerException).Message, StringComparison.Ordinal);
                Assert.False(ran);
                break;
            case "refused":
                var refused = Assert.IsType<InvalidOperationException>(outcome);
                Assert.Contains($"'redis-a'", refused.Message, StringComparison.Ordinal);
                Assert.Contains(key.Resource, refused.Message, StringComparison.Ordinal);
                Assert.Contains(code, refused.Message, StringComparison.Ordinal);
                Assert.Contains("not an outage", refused.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(key.Id, refused.Message, StringComparison.Ordinal);
                Assert.IsType<RedisServerException>(refused.InnerException);
                Assert.False(ran);
                break;
            default:
                Assert.Null(outcome);
                Assert.True(ran);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(RenewRows))]
    public async Task Renew_ScriptAnswersError_UnconfirmedUntilTheLeaseIsDeclaredLost(string error)
    {
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), s => s == RedisLockScripts.Extend ? Task.FromException<RedisResult>(new RedisServerException(error)) : null);
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(1), RenewalInterval = TimeSpan.FromMilliseconds(300), OperationTimeout = TimeSpan.FromMilliseconds(200) };
        var pipeline = Pipeline(new RedisLockStage(redis, options), Bound);
        var key = NewKey();
        var workToken = CancellationToken.None;

        var lost = await Assert.ThrowsAsync<LockLeaseLostException>(async () => await pipeline.ExecuteAsync(key, async (_, ct) =>
        {
            workToken = ct;
            await Task.Delay(Bound, ct);
        }, cancellationToken: Ct));

        Assert.True(workToken.IsCancellationRequested, "The unconfirmed renewals must end in a lease loss the work sees.");
        Assert.Equal(key.Resource, lost.Resource);
    }

    [Theory]
    [MemberData(nameof(LaterRows))]
    public async Task Release_ScriptAnswersError_LockLeftToExpireAndTheKeyServesAgain(string error, bool outage)
    {
        var real = await Servers.SharedRedisAsync();
        var redis = FaultInjectingRedis.Wrap(real, FaultInjectingRedis.Once(RedisLockScripts.Release, () => new RedisServerException(error)));
        var options = new RedisLockOptions { Lease = TimeSpan.FromSeconds(1), RenewalInterval = TimeSpan.FromMilliseconds(300), OperationTimeout = TimeSpan.FromMilliseconds(200) };
        var pipeline = Pipeline(new RedisLockStage(redis, options), Bound);
        var key = NewKey();

        var outcome = await Record.ExceptionAsync(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, cancellationToken: Ct));

        var ttl = await real.GetDatabase().KeyTimeToLiveAsync(LockName(key));
        Assert.True(ttl is { } left && left > TimeSpan.Zero && left <= options.Lease, $"The lock must be left to expire with its lease, not kept (time to live {ttl}).");
        if (outage)
        {
            Assert.Null(outcome); // an outage on release is logged: the work is done
        }

        // Whatever the release reported, the key serves again once the lease ends (the stage's own queue is not wedged).
        Assert.True(await Pipeline(real, wait: Bound).TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, Bound, Ct));
    }

    [Theory]
    [InlineData("READONLY You can't write against a read only replica.")]
    [InlineData("NOREPLICAS Not enough good replicas to write.")]
    [InlineData("OOM command not allowed when used memory > 'maxmemory'.")]
    public async Task DualLike_AcquireAnswersWriteRefusal_FallsBackAndTheWorkRuns(string error)
    {
        var redis = FaultInjectingRedis.Wrap(await Servers.SharedRedisAsync(), s => s == RedisLockScripts.Acquire ? Task.FromException<RedisResult>(new RedisServerException(error)) : null);
        var pipeline = new LockPipelineBuilder { Name = "dual-like", WaitTimeout = Bound }
            .AddStage(new RedisLockStage(redis))
            .ContinueIfUnavailable()
            .AddStage(new InProcessLockStage())
            .Build();
        var key = NewKey();

        var ran = await pipeline.ExecuteAsync(key, (_, _) => ValueTask.FromResult(true), cancellationToken: Ct);

        Assert.True(ran);
    }
}
