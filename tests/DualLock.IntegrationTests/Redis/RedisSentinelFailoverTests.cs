using System.Diagnostics;
using DualLock.Redis;
using StackExchange.Redis;
using static DualLock.IntegrationTests.Redis.RedisTestKit;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// A replicated Redis fails over: the replica is promoted, and asynchronous replication means it may lack the
/// last lock writes. What that costs (a second holder, refused by a higher fencing token) and what
/// <see cref="RedisLockOptions.WaitForReplicas"/> buys (no acquire succeeds that the replica has not
/// acknowledged). Each test runs its own primary, replica and Sentinels; the shared servers are never touched.
/// </summary>
[Collection(nameof(RedisSentinelFailoverTests))]
[CollectionDefinition(nameof(RedisSentinelFailoverTests), DisableParallelization = true)]
public sealed class RedisSentinelFailoverTests
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Acquire_WaitForReplicasOn_SendsWaitAndTheReplicaHasTheLock()
    {
        await using var set = await PrivateReplicatedRedis.StartAsync(sentinels: false);
        await using var redis = await ConnectAsync(set.PrimaryEndpoint);
        await using var replica = await ConnectAsync($"127.0.0.1:{set.ReplicaPort}");
        var pipeline = Pipeline(redis, new RedisLockOptions { WaitForReplicas = 1, OperationTimeout = OperationTimeout });
        var key = NewKey();
        var before = await PrivateReplicatedRedis.WaitCallsAsync(set.PrimaryPort);

        // Read on the replica while the lock is held: WAIT returned, so the replica applied the acquire already.
        var onReplica = await pipeline.ExecuteAsync(
            key, async (_, _) => await replica.GetDatabase().KeyExistsAsync(LockName(key), CommandFlags.DemandReplica), cancellationToken: Ct);

        Assert.Equal(before + 1, await PrivateReplicatedRedis.WaitCallsAsync(set.PrimaryPort));
        Assert.True(onReplica, "the replica did not have the lock while it was held");
    }

    [Fact]
    public async Task Acquire_WaitForReplicasOn_ReplicaStopped_FailsUnavailableWithinItsBoundAndReleasesTheLock()
    {
        await using var set = await PrivateReplicatedRedis.StartAsync(sentinels: false);
        await using var redis = await ConnectAsync(set.PrimaryEndpoint);
        var pipeline = Pipeline(redis, new RedisLockOptions { WaitForReplicas = 1, OperationTimeout = OperationTimeout });
        var key = NewKey();
        set.PauseReplica();
        try
        {
            var clock = Stopwatch.StartNew();
            var ran = false;
            var error = await Assert.ThrowsAsync<LockUnavailableException>(async () =>
                await pipeline.ExecuteAsync(key, (_, _) => { ran = true; return ValueTask.CompletedTask; }, cancellationToken: Ct));

            // The bound is the operation timeout (WAIT gets half of it); the slack is for a loaded machine, not a speed claim.
            Assert.True(clock.Elapsed < OperationTimeout + TimeSpan.FromSeconds(2), $"failed after {clock.ElapsedMilliseconds} ms");
            Assert.False(ran, "the work ran under a lock the replica never acknowledged");
            Assert.Contains("0 of 1 replica", error.InnerException?.Message ?? "", StringComparison.Ordinal);
            Assert.False(await redis.GetDatabase().KeyExistsAsync(LockName(key)), "the unacknowledged lock was left in Redis");
        }
        finally
        {
            set.ResumeReplica();
        }
    }

    [Fact]
    public async Task Failover_LockWriteNotReplicated_PromotedReplicaGrantsItAgainWithAHigherFencingToken()
    {
        // The hazard WaitForReplicas closes, shown through the library's Sentinel connection: the primary took
        // the lock, died before replicating it, and the promoted replica hands the same key to a second holder
        // while the first still works. Only the fence tells them apart: the second token is higher.
        await using var set = await PrivateReplicatedRedis.StartAsync(sentinels: true);
        await using var redis = await ConnectAsync(set.SentinelConfiguration + ",connectTimeout=1000");
        var pipeline = Pipeline(redis, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(1));
        var key = NewKey();
        var firstHolds = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        set.PauseReplica();
        await set.CutReplicationAsync();
        var first = pipeline.ExecuteAsync(
            key,
            async (ctx, _) =>
            {
                firstHolds.SetResult(ctx.FencingToken!.Value);
                await firstMayEnd.Task.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            },
            cancellationToken: Ct).AsTask();
        long firstToken;
        try
        {
            firstToken = await firstHolds.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            await set.KillPrimaryAndWaitForPromotionAsync();
        }
        finally
        {
            set.ResumeReplica();
        }

        Assert.True(
            await EventuallyAsync(() => AnswersAsPrimaryAsync(redis), TimeSpan.FromSeconds(20)),
            "the Sentinel connection did not follow the failover");
        Assert.False(await redis.GetDatabase().KeyExistsAsync(LockName(key)), "the promoted replica had the lock: the link was not cut");
        // A second stage on its own connection, like a second process (the first stage's local queue would make it wait).
        await using var other = await ConnectAsync(set.SentinelConfiguration + ",connectTimeout=1000");
        var secondToken = await RetryUntilAcquiredAsync(Pipeline(other, new RedisLockOptions { OperationTimeout = OperationTimeout }, wait: TimeSpan.FromSeconds(1)), key);
        Assert.False(first.IsCompleted, "the first holder ended before the second acquired: no overlap was shown");
        firstMayEnd.SetResult();

        // The first holder is not told while its work runs. Whether it is told when the work returns depends on the
        // failover's length: a renewal after the promotion finds the lease gone (LockLeaseLostException, the call
        // says its write was not protected); before it, the work's result comes back. Either is the truth it knows.
        var firstOutcome = await Record.ExceptionAsync(() => first.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.True(firstOutcome is null or LockLeaseLostException, $"the first holder ended with {firstOutcome}");

        Assert.True(secondToken > firstToken, $"second holder's token {secondToken} is not above the first's {firstToken}: a fenced store could not refuse the stale holder");
    }

    private static async Task<bool> AnswersAsPrimaryAsync(ConnectionMultiplexer redis)
    {
        try
        {
            await redis.GetDatabase().PingAsync(CommandFlags.DemandMaster);
            return true;
        }
        catch (RedisException)
        {
            return false; // still reconnecting to the promoted node
        }
    }

    private static async Task<long> RetryUntilAcquiredAsync(LockPipeline pipeline, LockKey key)
    {
        // Right after the failover the stage may still know the old primary as unavailable; that ends within its probe interval.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await pipeline.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct);
            }
            catch (LockUnavailableException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100, Ct);
            }
        }
    }
}
