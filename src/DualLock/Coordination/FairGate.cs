namespace DualLock;

/// <summary>
/// One key's shared/exclusive gate inside a process, first come first served: up to
/// <see cref="Capacity"/> shared holders at once, or one exclusive holder. A waiter is granted only
/// when everyone queued before it has been, so a waiting writer blocks readers that arrive after it
/// (writers do not starve) and a semaphore's permits go in arrival order.
/// </summary>
/// <remarks>
/// Every change of state is made under one lock; a waiter leaves the queue exactly once (granted, or
/// giving up on timeout or cancellation), and a grant that races with giving up is given back.
/// </remarks>
internal sealed class FairGate : KeyedEntry
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _queue = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _shared;
    private bool _exclusive;
    private int _subscribed;

    public FairGate(string key, int capacity)
        : base(key)
        => Capacity = capacity;

    /// <summary>A table of gates, each admitting <paramref name="capacity"/> shared holders.</summary>
    public static KeyedRegistry<FairGate> Registry(int capacity) => new(key => new FairGate(key, capacity));

    /// <summary>Gets how many shared holders may hold the gate at once.</summary>
    public int Capacity { get; }

    /// <summary>Gets or sets what a distributed stage subscribed for this key (its handler), so it can unsubscribe when the key is forgotten.</summary>
    public object? Subscription { get; set; }

    /// <summary>Gets the number of shared holders (for tests).</summary>
    public int SharedHolders
    {
        get
        {
            lock (_gate)
            {
                return _shared;
            }
        }
    }

    /// <summary>Completes at the next <see cref="Wake"/>; take it before a remote attempt so no wake-up after it is missed.</summary>
    public Task NextWake => Volatile.Read(ref _wake).Task;

    public void Wake() => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>True once per gate: the caller subscribes to the key's release messages.</summary>
    public bool TryBeginSubscription() => Interlocked.Exchange(ref _subscribed, 1) == 0;

    /// <summary>Enters the gate, waiting in line at most <paramref name="wait"/>.</summary>
    /// <returns>Whether it was entered, and whether the caller had to queue.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while queued.</exception>
    public async ValueTask<(bool Entered, bool Contended)> EnterAsync(bool exclusive, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_queue.Count == 0 && CanGrantLocked(exclusive))
            {
                GrantLocked(exclusive);
                return (true, false);
            }

            if (wait <= TimeSpan.Zero)
            {
                return (false, false);
            }

            node = _queue.AddLast(new Waiter(exclusive));
        }

        try
        {
            await node.Value.Granted.Task.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            return (true, true);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    // Still queued: leave the line; those behind may now go (a writer that gave up no longer blocks readers).
                    _queue.Remove(node);
                    PumpLocked();
                }
                else
                {
                    // Granted in the same instant: give it back.
                    ExitLocked(exclusive);
                }
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            return (false, true);
        }
    }

    /// <summary>Leaves the gate after <see cref="EnterAsync"/> returned entered; grants the next in line.</summary>
    public void Exit(bool exclusive)
    {
        lock (_gate)
        {
            ExitLocked(exclusive);
        }
    }

    private bool CanGrantLocked(bool exclusive) => exclusive ? !_exclusive && _shared == 0 : !_exclusive && _shared < Capacity;

    private void GrantLocked(bool exclusive)
    {
        if (exclusive)
        {
            _exclusive = true;
        }
        else
        {
            _shared++;
        }
    }

    private void ExitLocked(bool exclusive)
    {
        if (exclusive)
        {
            _exclusive = false;
        }
        else
        {
            _shared--;
        }

        PumpLocked();
    }

    /// <summary>Grants waiters from the head of the line while the head can go (strict arrival order).</summary>
    private void PumpLocked()
    {
        while (_queue.First is { } head && CanGrantLocked(head.Value.Exclusive))
        {
            _queue.RemoveFirst();
            GrantLocked(head.Value.Exclusive);
            head.Value.Granted.TrySetResult();
        }
    }

    private sealed class Waiter(bool exclusive)
    {
        public bool Exclusive { get; } = exclusive;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
