using System.Collections.Concurrent;

namespace DualLock.Redis;

/// <summary>
/// The callers of one process that want one key. At most one of them is "in turn" (holding the lock,
/// or the only one contending for it in Redis); the others wait here, first come first served, for
/// the turn to pass to them: with the lock itself (a hand-off) or with the right to contend.
/// </summary>
internal sealed class LocalKeyQueue(string key, RedisKeyNames names)
{
    private readonly LinkedList<TaskCompletionSource<RedisLease?>> _waiters = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Key { get; } = key;

    public RedisKeyNames Names { get; } = names;

    /// <summary>Callers inside the stage for this key (in turn or waiting); guarded by <c>this</c>.</summary>
    public int Users { get; set; } = 1;

    /// <summary>Whether one caller is in turn; guarded by <c>this</c>.</summary>
    public bool InTurn { get; set; }

    public int WaiterCount => _waiters.Count;

    /// <summary>The release-channel subscription while the key has callers, or <see langword="null"/>.</summary>
    public Action<StackExchange.Redis.RedisChannel, StackExchange.Redis.RedisValue>? Handler { get; set; }

    public Task? Subscribed { get; set; }

    /// <summary>Completes at the next release message; take it before a Redis attempt so no message is missed after it.</summary>
    public Task NextWake => Volatile.Read(ref _wake).Task;

    public void Wake() => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Takes the turn if nobody has it, else queues; guarded by <c>this</c>.</summary>
    public LinkedListNode<TaskCompletionSource<RedisLease?>>? TakeTurnOrQueue()
    {
        if (!InTurn)
        {
            InTurn = true;
            return null;
        }

        return _waiters.AddLast(new TaskCompletionSource<RedisLease?>(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    /// <summary>Removes a waiter that gave up; false when the turn was already given to it. Guarded by <c>this</c>.</summary>
    public bool TryRemove(LinkedListNode<TaskCompletionSource<RedisLease?>> waiter)
    {
        if (waiter.List is null)
        {
            return false;
        }

        _waiters.Remove(waiter);
        return true;
    }

    /// <summary>
    /// Fails every waiter with <paramref name="unavailable"/>: Redis did not answer the caller in turn,
    /// so each waiter would only wait for its own bounded attempt in turn and end as a timeout instead.
    /// Guarded by <c>this</c>.
    /// </summary>
    public void FailWaiters(LockUnavailableException unavailable)
    {
        while (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            first.Value.SetException(unavailable);
        }
    }

    /// <summary>Passes the turn (with <paramref name="lease"/>, or the right to contend) to the oldest waiter; false when none. Guarded by <c>this</c>.</summary>
    public bool TryPassTurn(RedisLease? lease)
    {
        var first = _waiters.First;
        if (first is null)
        {
            InTurn = false;
            return false;
        }

        _waiters.RemoveFirst();
        first.Value.SetResult(lease);
        return true;
    }
}

/// <summary>The live <see cref="LocalKeyQueue"/> per key; a key nobody wants is forgotten.</summary>
internal sealed class LocalKeyQueues
{
    private readonly ConcurrentDictionary<string, LocalKeyQueue> _queues = new(StringComparer.Ordinal);

    public int Count => _queues.Count;

    /// <summary>Registers a caller; <see langword="null"/> when <paramref name="maxWaiters"/> already wait.</summary>
    public LocalKeyQueue? Enter(string key, Func<RedisKeyNames> names, int maxWaiters)
    {
        while (true)
        {
            if (_queues.TryGetValue(key, out var queue))
            {
                lock (queue)
                {
                    if (queue.Users == 0)
                    {
                        continue; // being removed
                    }

                    if (queue.WaiterCount >= maxWaiters)
                    {
                        return null;
                    }

                    queue.Users++;
                    return queue;
                }
            }

            var created = new LocalKeyQueue(key, names());
            if (_queues.TryAdd(key, created))
            {
                return created;
            }
        }
    }

    /// <summary>Unregisters a caller; true when it was the last, and the queue is gone.</summary>
    public bool Exit(LocalKeyQueue queue)
    {
        lock (queue)
        {
            if (--queue.Users == 0)
            {
                _queues.TryRemove(new KeyValuePair<string, LocalKeyQueue>(queue.Key, queue));
                return true;
            }

            return false;
        }
    }
}
