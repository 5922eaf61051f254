namespace DualLock.Tests.Combining;

/// <summary>
/// A combiner over a given pipeline whose batch work records every batch, upper-cases each item,
/// fails the items named "fail*" individually, and blocks the batch of a chosen item on a gate.
/// </summary>
internal sealed class CombinerHarness
{
    private readonly Dictionary<string, TaskCompletionSource> _gates = [];
    private readonly Dictionary<string, TaskCompletionSource> _entered = [];
    private readonly object _sync = new();

    public CombinerHarness(LockPipeline pipeline, LockCombinerOptions? options = null)
        => Combiner = new LockCombiner<string, string>(pipeline, WorkAsync, options);

    public LockCombiner<string, string> Combiner { get; }

    public List<string[]> Batches { get; } = [];

    /// <summary>Gets or sets a failure the whole batch work throws when its first item is this one.</summary>
    public (string Item, Exception Error)? ThrowWhenLeading { get; set; }

    /// <summary>Gets or sets a value indicating whether the work waits for the lease-lost token (items "silent*" never get an outcome).</summary>
    public bool WaitForLeaseLoss { get; set; }

    /// <summary>Makes the batch that <paramref name="item"/> leads wait until <see cref="Open"/>; returns when it has started.</summary>
    public Task BlockAsync(string item)
    {
        lock (_sync)
        {
            _gates[item] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _entered[item] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _entered[item].Task;
        }
    }

    public void Open(string item)
    {
        lock (_sync)
        {
            _gates[item].TrySetResult();
        }
    }

    private async ValueTask WorkAsync(LockContext context, LockBatch<string, string> batch, CancellationToken cancellationToken)
    {
        Task? gate = null;
        lock (_sync)
        {
            Batches.Add([.. batch]);
            if (_gates.TryGetValue(batch[0], out var g))
            {
                _entered[batch[0]].TrySetResult();
                gate = g.Task;
            }
        }

        if (gate is not null)
        {
            await gate;
        }

        if (WaitForLeaseLoss)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        if (ThrowWhenLeading is { } failure && failure.Item == batch[0])
        {
            throw failure.Error;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].StartsWith("fail", StringComparison.Ordinal))
            {
                batch.SetException(i, new InvalidOperationException($"rejected {batch[i]}"));
            }
            else if (!batch[i].StartsWith("silent", StringComparison.Ordinal))
            {
                batch.SetResult(i, batch[i].ToUpperInvariant());
            }
        }
    }
}
