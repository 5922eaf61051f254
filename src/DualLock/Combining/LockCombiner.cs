using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace DualLock;

/// <summary>
/// Combines the callers that wait on the same key in this process: the one that gets the lock runs
/// every queued item (up to <see cref="LockCombinerOptions.MaxBatchSize"/>) in ONE critical section
/// of the pipeline, and each caller gets its own result or its own exception (flat combining, group commit).
/// </summary>
/// <typeparam name="TItem">What a caller asks for, for example a charge.</typeparam>
/// <typeparam name="TResult">What a caller gets back.</typeparam>
/// <remarks>
/// <para>A caller alone on its key runs its item directly: one pipeline execution, no queue wait.</para>
/// <para>
/// Waits are bounded by the pipeline's <see cref="LockPipeline.WaitTimeout"/>, counted from the
/// caller's arrival: a caller still queued at its deadline fails with <see cref="LockTimeoutException"/>,
/// a caller promoted to leader acquires with what is left of it.
/// </para>
/// <para>
/// Cancellation removes a queued item only; once its batch has started the item completes with the batch.
/// A failure of the critical section (lock timeout, lease lost, a commit that fails, batch work that
/// throws) fails every item of that batch with the same exception, since none of them was applied. A lock
/// that fails to release after the commit is not such a failure: the items were applied and keep their results.
/// </para>
/// <para>Combining happens per process; across processes the pipeline's own locks still serialise the batches.</para>
/// </remarks>
public sealed class LockCombiner<TItem, TResult>
{
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<LockKey, CombinerQueue<TItem, TResult>> _queues = new();

    /// <summary>Initializes a new instance of the <see cref="LockCombiner{TItem, TResult}"/> class.</summary>
    /// <param name="pipeline">The pipeline each batch runs in; its wait timeout bounds every caller.</param>
    /// <param name="work">The batch work; it reports an outcome per item.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public LockCombiner(LockPipeline pipeline, LockBatchWork<TItem, TResult> work, LockCombinerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(work);
        options ??= new LockCombinerOptions();
        OptionChecks.ThrowIfAny(options.Validate, $"The lock combiner of pipeline '{pipeline.Name}'");
        Pipeline = pipeline;
        Work = work;
        _timeProvider = options.TimeProvider;
        MaxBatchSize = options.MaxBatchSize;
    }

    /// <summary>Gets the pipeline the batches run in.</summary>
    public LockPipeline Pipeline { get; }

    /// <summary>Gets the most items run in one critical section.</summary>
    public int MaxBatchSize { get; }

    /// <summary>Gets the batch work.</summary>
    internal LockBatchWork<TItem, TResult> Work { get; }

    /// <summary>Gets the number of keys with per-key state (a leader running or callers queued); 0 when idle.</summary>
    internal int KeyCount => _queues.Count;

    /// <summary>Runs <paramref name="item"/> under the lock of <paramref name="key"/>, combined with the items other callers queued on it.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="item">The item the batch work receives.</param>
    /// <param name="cancellationToken">Removes the item while it is queued, and cancels the wait of a leader.</param>
    /// <returns>The result the batch work reported for this item.</returns>
    /// <exception cref="LockTimeoutException">The lock was not reached within the pipeline's wait timeout.</exception>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">The lock was lost while the batch ran.</exception>
    public ValueTask<TResult> ExecuteAsync(LockKey key, TItem item, CancellationToken cancellationToken = default)
    {
        if (key.IsDefault)
        {
            throw new ArgumentException("The lock key is default(LockKey); create it with new LockKey(resource, id).", nameof(key));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var entry = new CombinerEntry<TItem, TResult>(item, _timeProvider.GetTimestamp(), cancellationToken);
        while (true)
        {
            var queue = _queues.GetOrAdd(key, static _ => new CombinerQueue<TItem, TResult>());
            bool lead;
            lock (queue)
            {
                if (queue.Dead)
                {
                    continue;
                }

                lead = !queue.Leading;
                if (lead)
                {
                    queue.Leading = true;
                    entry.State = CombinerState.Leading;
                }
                else
                {
                    entry.Signal = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    entry.State = CombinerState.Queued;
                    queue.Enqueue(entry);

                    // Armed under the lock so that whoever takes the entry also sees (and disarms) them; a
                    // callback that runs at once (token already cancelled) re-enters this lock on this thread.
                    var remaining = Pipeline.WaitTimeout - _timeProvider.GetElapsedTime(entry.Start);
                    var state = (this, key, queue, entry);
                    entry.Deadline = _timeProvider.CreateTimer(static s => OnDeadline(s!), state, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                    if (cancellationToken.CanBeCanceled)
                    {
                        entry.Cancellation = cancellationToken.Register(static s => OnCancelled(s!), state);
                    }
                }
            }

            // Outside the lock: the leader's stages and batch work may complete synchronously, and whatever ran
            // under this lock would block the thread of every caller arriving on the key.
            if (lead)
            {
                return LeadAsync(key, queue, entry);
            }

            return WaitAsync(key, queue, entry);
        }
    }

    private static void OnDeadline(object state)
    {
        var (combiner, key, queue, entry) = ((LockCombiner<TItem, TResult>, LockKey, CombinerQueue<TItem, TResult>, CombinerEntry<TItem, TResult>))state;
        var elapsed = combiner._timeProvider.GetElapsedTime(entry.Start);
        Abandon(queue, entry, new LockTimeoutException(key.Resource, combiner.Pipeline.StageNames[0], elapsed, combiner.Pipeline.WaitTimeout));
    }

    private static void OnCancelled(object state)
    {
        var (_, _, queue, entry) = ((LockCombiner<TItem, TResult>, LockKey, CombinerQueue<TItem, TResult>, CombinerEntry<TItem, TResult>))state;
        Abandon(queue, entry, new OperationCanceledException(entry.CancellationToken));
    }

    /// <summary>Fails a queued entry and takes it out of the queue; a no-op once a leader has taken or promoted it.</summary>
    private static void Abandon(CombinerQueue<TItem, TResult> queue, CombinerEntry<TItem, TResult> entry, Exception error)
    {
        lock (queue)
        {
            if (entry.State != CombinerState.Queued)
            {
                return;
            }

            queue.Remove(entry);
            entry.State = CombinerState.Done;
            entry.Disarm();
        }

        // The queue is not removed here: a queued entry implies a running leader, which cleans up when it ends.
        entry.SetError(ExceptionDispatchInfo.Capture(error));
        entry.Signal!.TrySetResult(false);
    }

    private async ValueTask<TResult> WaitAsync(LockKey key, CombinerQueue<TItem, TResult> queue, CombinerEntry<TItem, TResult> entry)
    {
        var promoted = await entry.Signal!.Task.ConfigureAwait(false);
        if (!promoted)
        {
            return entry.GetResult();
        }

        return await LeadAsync(key, queue, entry).ConfigureAwait(false);
    }

    private async ValueTask<TResult> LeadAsync(LockKey key, CombinerQueue<TItem, TResult> queue, CombinerEntry<TItem, TResult> leader)
    {
        var batch = new LockBatch<TItem, TResult>(this, queue, leader);
        var remaining = Pipeline.WaitTimeout - _timeProvider.GetElapsedTime(leader.Start);
        try
        {
            await Pipeline.ExecuteAsync(key, batch.RunAsync, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, leader.CancellationToken).ConfigureAwait(false);
            FailUnreported(batch);
        }
        catch (Exception ex)
        {
            // Nothing of the batch was kept (the pipeline rolled back or never acquired): every item fails alike.
            var error = ExceptionDispatchInfo.Capture(ex);
            for (var i = 0; i < batch.Count; i++)
            {
                batch.EntryAt(i).SetError(error);
            }
        }

        batch.Close();
        HandOff(key, queue);
        for (var i = 1; i < batch.Count; i++)
        {
            var entry = batch.EntryAt(i);
            entry.State = CombinerState.Done;
            entry.Signal!.TrySetResult(false);
        }

        return leader.GetResult();
    }

    private static void FailUnreported(LockBatch<TItem, TResult> batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var entry = batch.EntryAt(i);
            if (!entry.HasOutcome)
            {
                entry.SetError(ExceptionDispatchInfo.Capture(new InvalidOperationException(
                    $"The batch work returned without reporting an outcome for item #{i}; call SetResult or SetException for every item.")));
            }
        }
    }

    /// <summary>Promotes the earliest waiter to leader, or removes the key's state when no one waits.</summary>
    private void HandOff(LockKey key, CombinerQueue<TItem, TResult> queue)
    {
        CombinerEntry<TItem, TResult>? next;
        lock (queue)
        {
            next = queue.Dequeue();
            if (next is null)
            {
                queue.Leading = false;
                queue.Dead = true;
                _queues.TryRemove(KeyValuePair.Create(key, queue));
                return;
            }

            next.State = CombinerState.Leading;
            next.Disarm();
        }

        next.Signal!.TrySetResult(true);
    }
}
