using System.Collections;
using System.Runtime.ExceptionServices;

namespace DualLock;

/// <summary>
/// The items a <see cref="LockCombiner{TItem, TResult}"/> runs in one critical section, in arrival
/// order, and the outcome of each. Valid only while the batch work runs.
/// </summary>
/// <typeparam name="TItem">What a caller asks for.</typeparam>
/// <typeparam name="TResult">What a caller gets back.</typeparam>
public sealed class LockBatch<TItem, TResult> : IReadOnlyList<TItem>
{
    private readonly LockCombiner<TItem, TResult> _owner;
    private readonly CombinerQueue<TItem, TResult> _queue;
    private readonly CombinerEntry<TItem, TResult> _leader;
    private CombinerEntry<TItem, TResult>[]? _others;
    private bool _closed;

    /// <summary>A batch of the leader alone; the others join in <see cref="RunAsync"/>, once the lock is held.</summary>
    internal LockBatch(LockCombiner<TItem, TResult> owner, CombinerQueue<TItem, TResult> queue, CombinerEntry<TItem, TResult> leader)
    {
        _owner = owner;
        _queue = queue;
        _leader = leader;
        Count = 1;
    }

    /// <summary>Gets the number of items.</summary>
    public int Count { get; private set; }

    /// <summary>Gets the item at <paramref name="index"/>; 0 is the earliest caller.</summary>
    /// <param name="index">The item's position.</param>
    /// <returns>The item.</returns>
    public TItem this[int index] => Entry(index).Item;

    /// <summary>Reports the result of one item; its caller gets it once the critical section has ended without failing.</summary>
    /// <param name="index">The item's position.</param>
    /// <param name="result">The result.</param>
    /// <exception cref="InvalidOperationException">The batch work has already returned.</exception>
    public void SetResult(int index, TResult result) => Open(index).SetResult(result);

    /// <summary>Fails one item only; the other items keep their own outcomes.</summary>
    /// <param name="index">The item's position.</param>
    /// <param name="exception">What that item's caller gets thrown.</param>
    /// <exception cref="InvalidOperationException">The batch work has already returned.</exception>
    public void SetException(int index, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Open(index).SetError(ExceptionDispatchInfo.Capture(exception));
    }

    /// <summary>Returns the items in arrival order.</summary>
    /// <returns>An enumerator over the items.</returns>
    public IEnumerator<TItem> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return EntryAt(i).Item;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal CombinerEntry<TItem, TResult> EntryAt(int index) => index == 0 ? _leader : _others![index - 1];

    /// <summary>
    /// The pipeline's work: takes the queued items once the lock is held, so the callers that arrived
    /// while the leader waited join, then runs the batch work.
    /// </summary>
    internal ValueTask RunAsync(LockContext context, CancellationToken cancellationToken)
    {
        lock (_queue)
        {
            var others = Math.Min(_queue.Count, _owner.MaxBatchSize - 1);
            if (others > 0)
            {
                _others = new CombinerEntry<TItem, TResult>[others];
                while (Count <= others && _queue.Dequeue() is { } entry)
                {
                    entry.State = CombinerState.Taken;
                    entry.Disarm();
                    _others[Count++ - 1] = entry;
                }
            }
        }

        // The leader's own cancellation must not cancel the other callers' items: only a lost lock stops the batch.
        return _owner.Work(context, this, context.LeaseLost);
    }

    /// <summary>Ends the work's access: a late report must not race the callers reading their outcome.</summary>
    internal void Close() => _closed = true;

    private CombinerEntry<TItem, TResult> Open(int index)
    {
        if (_closed)
        {
            throw new InvalidOperationException("The batch is closed: outcomes can only be reported while the batch work runs.");
        }

        return Entry(index);
    }

    private CombinerEntry<TItem, TResult> Entry(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return EntryAt(index);
    }
}
