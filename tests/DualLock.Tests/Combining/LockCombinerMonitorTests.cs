using DualLock.Tests.Pipeline;

namespace DualLock.Tests.Combining;

/// <summary>
/// No user work runs under the combiner's per-key lock: a leader whose stages and work complete
/// synchronously must not block the threads of the callers that arrive meanwhile.
/// </summary>
public sealed class LockCombinerMonitorTests
{
    private static readonly LockKey Key = new("account", "sync");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_LeaderWorkBlocksSynchronously_ArrivingCallerIsQueuedWithoutBlockingItsThread()
    {
        using var leaderInside = new ManualResetEventSlim();
        using var releaseLeader = new ManualResetEventSlim();
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(5) }.AddInProcessLock().Build();
        var combiner = new LockCombiner<string, string>(pipeline, (_, batch, cancellationToken) =>
        {
            if (batch[0] == "leader")
            {
                // Synchronous work (an in-process lock completes synchronously, so this runs on the caller's thread at once).
                leaderInside.Set();
                releaseLeader.Wait(TimeSpan.FromSeconds(20), cancellationToken);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch.SetResult(i, batch[i]);
            }

            return ValueTask.CompletedTask;
        });

        // StartNew (not Task.Run, which would unwrap): the outer task completes when ExecuteAsync RETURNS, the inner one with its result.
        var leader = Task.Factory.StartNew(() => combiner.ExecuteAsync(Key, "leader", Ct).AsTask(), Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(leaderInside.Wait(TimeSpan.FromSeconds(10), Ct));

        using var cancel = new CancellationTokenSource();
        var arrival = Task.Factory.StartNew(() => combiner.ExecuteAsync(Key, "late", cancel.Token).AsTask(), Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var returned = await Task.WhenAny(arrival, Task.Delay(TimeSpan.FromSeconds(3), Ct)) == arrival;
        Task<string>? late = returned ? await arrival : null;
        if (late is not null)
        {
            // Queued behind the blocked leader, the caller gives up: its cancellation completes it while the leader still runs.
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => late.WaitAsync(TimeSpan.FromSeconds(3), Ct));
        }

        releaseLeader.Set();
        Assert.True(returned, "ExecuteAsync of a caller arriving while the leader ran did not return: its thread blocked on the combiner's lock.");
        Assert.Equal("leader", await (await leader).WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task ExecuteAsync_LockReleaseFailsAfterCommit_EveryItemGetsItsResult()
    {
        var log = new List<string>();
        var pipeline = new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(5) }
            .AddInProcessLock()
            .AddStage(new RecordingStage("redis", log) { ReleaseFailure = new InvalidOperationException("NOREPLICAS Not enough good replicas to write.") })
            .AddStage(new RecordingStage("tx", log) { DeclaredTraits = LockStageTraits.OpensTransaction })
            .Build();
        var harness = new CombinerHarness(pipeline);
        var entered = harness.BlockAsync("a");
        var a = harness.Combiner.ExecuteAsync(Key, "a", Ct).AsTask();
        await entered;
        var queued = new[] { "b", "c", "d" }.Select(i => harness.Combiner.ExecuteAsync(Key, i, Ct).AsTask()).ToArray();
        harness.Open("a");

        Assert.Equal("A", await a);
        Assert.Equal(["B", "C", "D"], await Task.WhenAll(queued));
    }
}
