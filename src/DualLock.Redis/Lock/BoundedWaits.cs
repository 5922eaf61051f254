using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// Waits for a Redis call at most a timeout, like <c>Task.WaitAsync(timeout)</c> (a <see cref="TimeoutException"/>
/// at the bound, the call's own result or exception otherwise), without a promise and a timer per call:
/// each wait is a pooled object that keeps its timer. One stage's hot path awaits these; other calls use
/// <see cref="RedisCall.BoundedAsync{T}"/>.
/// </summary>
/// <remarks>
/// A wait that timed out is never reused: the call's completion may still arrive later and must find nobody
/// but that wait. A wait the call completed is reused once its result was taken; its timer may still fire
/// late, so a tick completes a wait only when that wait's own deadline has passed. Bounded: at most
/// <see cref="MaxPooled"/> idle waits are kept.
/// </remarks>
internal sealed class BoundedWaits(TimeProvider timeProvider)
{
    public const int MaxPooled = 64;

    private readonly TimeProvider _time = timeProvider;
    private readonly ConcurrentQueue<Wait> _pool = new();
    private int _pooled;

    /// <summary>Gets the number of idle waits kept for reuse (for tests).</summary>
    public int Pooled => Volatile.Read(ref _pooled);

    /// <summary>The call's result, or a <see cref="TimeoutException"/> when it has not completed within <paramref name="timeout"/>.</summary>
    public ValueTask<RedisResult> WaitAsync(Task<RedisResult> call, TimeSpan timeout)
    {
        if (call.IsCompleted)
        {
            return new ValueTask<RedisResult>(call);
        }

        var wait = Rent();
        return new ValueTask<RedisResult>(wait, wait.Start(call, timeout));
    }

    private Wait Rent()
    {
        if (_pool.TryDequeue(out var wait))
        {
            Interlocked.Decrement(ref _pooled);
            return wait;
        }

        return new Wait(this);
    }

    private void Return(Wait wait)
    {
        if (Interlocked.Increment(ref _pooled) > MaxPooled)
        {
            Interlocked.Decrement(ref _pooled);
            wait.Dispose();
            return;
        }

        _pool.Enqueue(wait);
    }

    private sealed class Wait : IValueTaskSource<RedisResult>, IDisposable
    {
        private const int Pending = 0;
        private const int Completed = 1;
        private const int TimedOut = 2;
        private static readonly TimeSpan MinRearm = TimeSpan.FromMilliseconds(1);

        private readonly BoundedWaits _owner;
        private readonly ITimer _timer;
        private readonly Action _onCallCompleted;
        private ManualResetValueTaskSourceCore<RedisResult> _core; // continuations run inline: on the completing pool thread, as an await of the call would
        private Task<RedisResult>? _call;
        private long _deadline;
        private int _state = Completed; // idle

        public Wait(BoundedWaits owner)
        {
            _owner = owner;
            _onCallCompleted = OnCallCompleted;

            // A pooled timer must not keep (and run its ticks in) the execution context of the caller that created it.
            var suppress = !ExecutionContext.IsFlowSuppressed();
            var flow = suppress ? ExecutionContext.SuppressFlow() : default;
            try
            {
                _timer = owner._time.CreateTimer(static state => ((Wait)state!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            finally
            {
                if (suppress)
                {
                    flow.Undo();
                }
            }
        }

        public short Start(Task<RedisResult> call, TimeSpan timeout)
        {
            _call = call;
            Volatile.Write(ref _deadline, _owner._time.GetTimestamp() + (long)(timeout.TotalSeconds * _owner._time.TimestampFrequency));
            Volatile.Write(ref _state, Pending);
            _timer.Change(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            var version = _core.Version;
            call.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onCallCompleted);
            return version;
        }

        public RedisResult GetResult(short token)
        {
            var timedOut = Volatile.Read(ref _state) == TimedOut;
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                if (timedOut)
                {
                    Dispose();
                }
                else
                {
                    _call = null;
                    _core.Reset();
                    _owner.Return(this);
                }
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);

        public void Dispose() => _timer.Dispose();

        private void OnCallCompleted()
        {
            if (Interlocked.CompareExchange(ref _state, Completed, Pending) != Pending)
            {
                return; // timed out first
            }

            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            RedisResult result;
            try
            {
                result = _call!.GetAwaiter().GetResult();
            }
#pragma warning disable CA1031 // the call's own failure is handed to the awaiter, as awaiting the call would
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _core.SetException(ex);
                return;
            }

            _core.SetResult(result);
        }

        private void OnTick()
        {
            if (Volatile.Read(ref _state) != Pending)
            {
                return;
            }

            // A tick armed for an earlier use of this wait may come late, and the timer's clock (milliseconds) may
            // run a little ahead of the timestamps: before this use's own deadline, arm for what is left of it.
            var left = Volatile.Read(ref _deadline) - _owner._time.GetTimestamp();
            if (left > 0)
            {
                var due = TimeSpan.FromSeconds((double)left / _owner._time.TimestampFrequency);
                _timer.Change(due > MinRearm ? due : MinRearm, Timeout.InfiniteTimeSpan);
                return;
            }

            if (Interlocked.CompareExchange(ref _state, TimedOut, Pending) == Pending)
            {
                _core.SetException(new TimeoutException("The Redis call did not complete within its bound."));
            }
        }
    }

}
