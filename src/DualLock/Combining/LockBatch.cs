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
    private readonly CombinerEntry<TItem, TResult>[] _entries;
    private bool _closed;

    internal LockBatch(CombinerEntry<TItem, TResult>[] entries, int count)
    {
        _entries = entries;
        Count = count;
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
            yield return _entries[i].Item;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal CombinerEntry<TItem, TResult> EntryAt(int index) => _entries[index];

    internal void Add(CombinerEntry<TItem, TResult> entry) => _entries[Count++] = entry;

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
        return _entries[index];
    }
}
