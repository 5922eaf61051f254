namespace DualLock.FaultSearch.Workload;

/// <summary>Runs one call of a strategy: the keys, whether it writes (reader-writer lock), the work.</summary>
internal abstract class StrategyRunner(CallWork work)
{
    protected CallWork Work { get; } = work;

    public abstract ValueTask RunAsync(CallRecord call, CancellationToken cancellationToken);

    /// <summary>Acquires each key for up to 1 s and does nothing under it; true when every key was acquired.</summary>
    public abstract ValueTask<bool> ProbeAsync(LockKey key);
}

internal sealed class PipelineRunner(LockPipeline pipeline, CallWork work) : StrategyRunner(work)
{
    public override ValueTask RunAsync(CallRecord call, CancellationToken cancellationToken)
        => call.Keys.Length == 1
            ? pipeline.ExecuteAsync(call.Keys[0], (context, ct) => Work.RunAsync(call, context, ct), cancellationToken: cancellationToken)
            : pipeline.ExecuteAsync(call.Keys, (context, ct) => Work.RunAsync(call, context, ct), cancellationToken: cancellationToken);

    /// <summary>Throws on a timeout rather than answering false: the exception names the stage that did not get the key, so a wedge finding says which.</summary>
    public override async ValueTask<bool> ProbeAsync(LockKey key)
    {
        await pipeline.ExecuteAsync(key, static (_, _) => ValueTask.CompletedTask, TimeSpan.FromSeconds(1));
        return true;
    }
}

internal sealed class ReaderWriterRunner(ReaderWriterLockStrategy rw, CallWork work) : StrategyRunner(work)
{
    public override async ValueTask RunAsync(CallRecord call, CancellationToken cancellationToken)
    {
        if (call.Kind == "r")
        {
            await rw.ExecuteReadAsync(call.Keys[0], async (context, ct) => { await Work.RunAsync(call, context, ct); return 0; }, cancellationToken: cancellationToken);
        }
        else
        {
            await rw.ExecuteWriteAsync(call.Keys[0], async (context, ct) => { await Work.RunAsync(call, context, ct); return 0; }, cancellationToken: cancellationToken);
        }
    }

    public override async ValueTask<bool> ProbeAsync(LockKey key)
        => (await rw.TryExecuteWriteAsync(key, static (_, _) => ValueTask.FromResult(0), TimeSpan.FromSeconds(1))).Acquired;
}

/// <summary>
/// The combiner over the dual pipeline: the calls of one batch share one holder (the batch) in the witness
/// and each writes its own ledger row in the batch's transaction.
/// </summary>
internal sealed class CombinerRunner : StrategyRunner
{
    private readonly LockCombiner<CallRecord, int> _combiner;
    private readonly LockPipeline _pipeline;

    public CombinerRunner(LockPipeline pipeline, CallWork work)
        : base(work)
    {
        _pipeline = pipeline;
        _combiner = new LockCombiner<CallRecord, int>(pipeline, async (context, batch, ct) =>
        {
            await Work.RunBatchAsync(batch, context, ct);
            for (var i = 0; i < batch.Count; i++)
            {
                batch.SetResult(i, 0);
            }
        });
    }

    public override async ValueTask RunAsync(CallRecord call, CancellationToken cancellationToken)
        => await _combiner.ExecuteAsync(call.Keys[0], call, cancellationToken);

    public override async ValueTask<bool> ProbeAsync(LockKey key)
        => await _pipeline.TryExecuteAsync(key, static (_, _) => ValueTask.CompletedTask, TimeSpan.FromSeconds(1));
}
