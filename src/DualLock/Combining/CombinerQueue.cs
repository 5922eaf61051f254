namespace DualLock;

/// <summary>
/// The per-key state: whether a leader is running and who waits behind it, in arrival order. Used
/// under its own lock; removed from the combiner (and marked dead) as soon as no one leads or waits.
/// </summary>
internal sealed class CombinerQueue<TItem, TResult>
{
    private CombinerEntry<TItem, TResult>? _head;
    private CombinerEntry<TItem, TResult>? _tail;

    public bool Leading { get; set; }

    /// <summary>Gets or sets a value indicating whether the queue was removed; a caller that still holds it joins a new one.</summary>
    public bool Dead { get; set; }

    public int Count { get; private set; }

    public void Enqueue(CombinerEntry<TItem, TResult> entry)
    {
        entry.Previous = _tail;
        entry.Next = null;
        if (_tail is null)
        {
            _head = entry;
        }
        else
        {
            _tail.Next = entry;
        }

        _tail = entry;
        Count++;
    }

    public CombinerEntry<TItem, TResult>? Dequeue()
    {
        var entry = _head;
        if (entry is not null)
        {
            Remove(entry);
        }

        return entry;
    }

    public void Remove(CombinerEntry<TItem, TResult> entry)
    {
        if (entry.Previous is null)
        {
            _head = entry.Next;
        }
        else
        {
            entry.Previous.Next = entry.Next;
        }

        if (entry.Next is null)
        {
            _tail = entry.Previous;
        }
        else
        {
            entry.Next.Previous = entry.Previous;
        }

        entry.Next = null;
        entry.Previous = null;
        Count--;
    }
}
