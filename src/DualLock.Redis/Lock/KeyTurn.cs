using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// Everything this process knows locally about one key, owned here alone: who uses it, who is in
/// turn, who waits (first come first served), and the hand-off period of the lock held in Redis.
/// </summary>
/// <remarks>
/// Invariants, each kept under one lock: at most one caller is in turn (it holds the lock or is the only
/// one contending for it in Redis); a waiter leaves the queue exactly once (given the turn, failed,
/// or giving up); the turn is passed exactly once per turn taken. Who uses the key is counted by its
/// <see cref="KeyedRegistry{TEntry}"/> entry (<see cref="KeyedEntry.Users"/>); the key is forgotten when none is left.
/// The stage does the Redis I/O and calls in here for every change of state.
/// </remarks>
internal sealed class KeyTurn : KeyedEntry
{
    private readonly object _gate = new();
    private readonly LinkedList<TurnWaiter> _waiters = new();
    private TaskCompletionSource? _wake; // created when first asked for: most keys are used once, uncontended
    private bool _inTurn;
    private int _handoffs;
    private long _periodStart;
    private Action<RedisChannel, RedisValue>? _handler;
    private RedisLockHandle? _offer; // the holder in turn holds its row lock: the next caller to arrive takes the turn at once
    private int _runningEarlyPassers; // holders that passed the lock on early and have not ended
    private RedisLease? _deferredEnd; // the lease whose turn ends when the last of them ends

    public KeyTurn(string key, RedisKeyNames names, int slot)
        : base(key)
    {
        Names = names;
        Slot = slot;
    }

    public RedisKeyNames Names { get; }

    /// <summary>The Redis Cluster hash slot of the key (-1 on a single server): what an outage is known for.</summary>
    public int Slot { get; }

    public int WaiterCount
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    public bool InTurn
    {
        get
        {
            lock (_gate)
            {
                return _inTurn;
            }
        }
    }

    /// <summary>Gets the number of hand-offs in the current period.</summary>
    public int Handoffs
    {
        get
        {
            lock (_gate)
            {
                return _handoffs;
            }
        }
    }

    /// <summary>The release-channel handler once the key subscribed, or <see langword="null"/>; unsubscribed when the key is forgotten.</summary>
    public Action<RedisChannel, RedisValue>? Handler => Volatile.Read(ref _handler);

    /// <summary>Completes at the next release message; take it before a Redis attempt so no message is missed after it.</summary>
    public Task NextWake => (Volatile.Read(ref _wake) ?? CreateWake()).Task;

    /// <summary>Completes the wake every waiter took so far; the next <see cref="NextWake"/> is a new one.</summary>
    public void Wake() => Interlocked.Exchange(ref _wake, null)?.TrySetResult();

    /// <summary>True once per key: the caller should subscribe with <paramref name="handler"/> (it wakes this key's waiters).</summary>
    public bool TryBeginSubscription(out Action<RedisChannel, RedisValue> handler)
    {
        Action<RedisChannel, RedisValue> created = (_, _) => Wake();
        var won = Interlocked.CompareExchange(ref _handler, created, null) is null;
        handler = won ? created : _handler!;
        return won;
    }

    /// <summary>
    /// Takes the turn when nobody has it (true). Otherwise queues, unless <paramref name="mayQueue"/> is
    /// false, and returns false with the <paramref name="waiter"/> (or <see langword="null"/>: not queued); a waiter
    /// that took the holder's offer (see <see cref="TryPassEarly"/>) has its turn already.
    /// </summary>
    public bool TryTakeTurn(bool mayQueue, PassBounds bounds, out TurnWaiter? waiter)
    {
        lock (_gate)
        {
            if (!_inTurn)
            {
                _inTurn = true;
                waiter = null;
                return true;
            }

            if (!mayQueue)
            {
                waiter = null;
                return false;
            }

            waiter = new TurnWaiter();
            if (_offer is { } holder)
            {
                // The holder in turn holds its row lock and offered its turn: this caller takes it at once (or, when the
                // bounds no longer allow it, queues and the turn ends at the holder's release).
                _offer = null;
                if (MayPassEarlyLocked(holder.Lease, bounds))
                {
                    holder.Passed = true;
                    _waiters.AddLast(waiter);
                    PassEarlyLocked(holder.Lease);
                    return false;
                }
            }

            waiter.Node = _waiters.AddLast(waiter);
            return false;
        }
    }

    /// <summary>
    /// Waits for the turn. A waiter that gives up while the turn reaches it passes the turn on (or, holding
    /// the lock and cancelled, returns <see cref="TurnOutcome.CancelledHolding"/> so the stage ends that turn).
    /// </summary>
    /// <exception cref="LockUnavailableException">The caller in turn found Redis unavailable (see <see cref="FailWaiters"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the turn came.</exception>
    public async Task<TurnGrant> WaitForTurnAsync(TurnWaiter waiter, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var timedOut = false;
        try
        {
            var lease = await waiter.Task.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, time, cancellationToken).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                return lease is null ? new(TurnOutcome.Contend, null) : new(TurnOutcome.HandedOff, lease);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            timedOut = ex is TimeoutException;
            lock (_gate)
            {
                if (waiter.Node?.List is not null)
                {
                    _waiters.Remove(waiter.Node);
                    if (timedOut)
                    {
                        return new(TurnOutcome.TimedOut, null);
                    }

                    throw;
                }
            }
        }

        // The turn reached us as we gave up (or were cancelled): the queue was failed, or the turn is ours to pass on.
        var granted = await waiter.Task.ConfigureAwait(false); // completed: rethrows a failure
        if (granted is not null)
        {
            return timedOut ? new(TurnOutcome.HandedOff, granted) : new(TurnOutcome.CancelledHolding, granted);
        }

        PassTurn(null);
        if (timedOut)
        {
            return new(TurnOutcome.TimedOut, null);
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>Passes the turn (with <paramref name="lease"/>, or the right to contend) to the oldest waiter; false when none waits and the turn is free.</summary>
    /// <exception cref="InvalidOperationException">Nobody was in turn: a turn passed twice.</exception>
    public bool PassTurn(RedisLease? lease)
    {
        lock (_gate)
        {
            return PassTurnLocked(lease);
        }
    }

    /// <summary>A new lock in Redis (or a kept one): its hand-off period starts at <paramref name="now"/>.</summary>
    public void BeginPeriod(long now)
    {
        lock (_gate)
        {
            _handoffs = 0;
            _periodStart = now;
        }
    }

    /// <summary>
    /// Decides how the holder of <paramref name="lease"/> ends its turn, and hands the lock to the oldest
    /// waiter at once when the period's bounds allow (then the turn has passed).
    /// </summary>
    public TurnEnd EndTurn(RedisLease lease, PassBounds bounds)
    {
        lock (_gate)
        {
            var end = TurnEnd.Release;
            if (_waiters.Count > 0 && MayHandOn(lease))
            {
                // Out of local tokens the period ends early: keeping the lock issues a new Redis fence.
                if (InPeriodLocked(bounds) && lease.TryNextToken())
                {
                    HandOffLocked(lease);
                    return TurnEnd.HandedOff;
                }

                end = TurnEnd.EndPeriod;
            }

            if (_runningEarlyPassers > 0)
            {
                // Released or given to another process now, the lock would end before an earlier holder's transaction does.
                _deferredEnd = lease;
                return TurnEnd.Deferred;
            }

            return end;
        }
    }

    /// <summary>
    /// The holder in turn holds a row lock inside (see <see cref="LockStageHandle.OnInnerExclusionHeld"/>): hands its
    /// lock to the oldest waiter now, before its work ends (true), when the period's bounds allow a hand-off; when
    /// nobody waits yet, offers it to the next caller to arrive (<see cref="TryTakeTurn"/>) until the holder ends
    /// (<see cref="WithdrawOffer"/>). False when it was not passed now. The lease's hold time keeps counting from
    /// the holder's start until it ends (<see cref="EarlyPasserEnded"/>).
    /// </summary>
    public bool TryPassEarly(RedisLockHandle holder, PassBounds bounds)
    {
        lock (_gate)
        {
            if (_waiters.Count == 0)
            {
                // The token is taken when a caller takes the offer: an offer nobody takes must not use one up.
                if (MayHandOn(holder.Lease) && InPeriodLocked(bounds))
                {
                    _offer = holder;
                }

                return false;
            }

            if (!MayPassEarlyLocked(holder.Lease, bounds))
            {
                return false;
            }

            holder.Passed = true;
            PassEarlyLocked(holder.Lease);
            return true;
        }
    }

    /// <summary>Ends the holder's offer (see <see cref="TryPassEarly"/>); true when its turn has passed, at once or to a caller that arrived.</summary>
    public bool WithdrawOffer(RedisLockHandle holder)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_offer, holder))
            {
                _offer = null;
            }

            return holder.Passed;
        }
    }

    /// <summary>A lost lease, or one Redis' last confirmation no longer covers, is never handed on: it is released and the next waiter contends in Redis.</summary>
    private static bool MayHandOn(RedisLease lease) => !lease.IsLost && lease.CoversNewHolder();

    private bool InPeriodLocked(PassBounds bounds)
        => _handoffs < bounds.MaxHandoffs && bounds.Time.GetElapsedTime(_periodStart) < bounds.MaxHandoffTime;

    private bool MayPassEarlyLocked(RedisLease lease, PassBounds bounds)
        => MayHandOn(lease) && InPeriodLocked(bounds) && lease.TryNextToken();

    private void PassEarlyLocked(RedisLease lease)
    {
        // The lease's hold time is not restarted: it counts from the oldest holder that still runs (see HandOffLocked).
        _handoffs++;
        _runningEarlyPassers++;
        PassTurnLocked(lease);
    }

    /// <summary>
    /// A holder that passed the lock on early has ended. When it was the last, the hold time of the holders after it
    /// starts now, and a turn that ended meanwhile (<see cref="TurnEnd.Deferred"/>) is returned for the caller to end.
    /// </summary>
    public RedisLease? EarlyPasserEnded(RedisLease lease)
    {
        lock (_gate)
        {
            if (--_runningEarlyPassers > 0)
            {
                return null;
            }

            lease.NewHolder();
            var deferred = _deferredEnd;
            _deferredEnd = null;
            return deferred;
        }
    }

    /// <summary>The lock was kept in Redis at the end of a period: a new period starts and the oldest waiter gets the lock. False when nobody waits any more (the turn is still the caller's).</summary>
    public bool HandOffKept(RedisLease lease, long now)
    {
        lock (_gate)
        {
            _handoffs = 0;
            _periodStart = now;
            if (_waiters.Count == 0)
            {
                return false;
            }

            HandOffLocked(lease);
            return true;
        }
    }

    /// <summary>
    /// Fails every waiter with <paramref name="unavailable"/>: Redis did not answer the caller in turn, so
    /// each waiter would only wait for its own bounded attempt in turn and end as a timeout instead.
    /// The caller stays in turn until it passes it.
    /// </summary>
    public void FailWaiters(LockUnavailableException unavailable)
    {
        lock (_gate)
        {
            while (_waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                first.Value.SetException(unavailable);
            }
        }
    }

    private TaskCompletionSource CreateWake()
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _wake, created, null) ?? created;
    }

    private void HandOffLocked(RedisLease lease)
    {
        _handoffs++;
        if (_runningEarlyPassers == 0)
        {
            lease.NewHolder(); // else the hold time stays the oldest running holder's, so one that never ends still ends the lease
        }

        PassTurnLocked(lease);
    }

    private bool PassTurnLocked(RedisLease? lease)
    {
        if (!_inTurn)
        {
            throw new InvalidOperationException("The turn was passed while nobody was in turn.");
        }

        var first = _waiters.First;
        if (first is null)
        {
            _inTurn = false;
            return false;
        }

        _waiters.RemoveFirst();
        first.Value.Node = null;
        first.Value.SetResult(lease);
        return true;
    }
}
