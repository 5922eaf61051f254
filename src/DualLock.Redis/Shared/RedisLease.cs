using Microsoft.Extensions.Logging;

namespace DualLock.Redis;

/// <summary>
/// One ownership of a lock in Redis: its token and fencing token, and the watchdog that extends it
/// while it is held. It outlives a single holder when the lock is handed to a local waiter.
/// </summary>
/// <remarks>
/// The lease in Redis ends no earlier than <see cref="LeaseSettings.Lease"/> after the last renewal
/// Redis confirmed was <em>sent</em> (or the acquire, for the first): that moment is what
/// <see cref="LastConfirmed"/> holds. Each renewal starts <see cref="LeaseSettings.RenewalInterval"/> after
/// the previous one was sent (at once if that one took longer) and ends within
/// <see cref="LeaseSettings.OperationTimeout"/>. After a failed renewal the lease is declared lost when
/// the next renewal could answer only at or after the lease's possible end; options that keep
/// max(RenewalInterval, OperationTimeout) + OperationTimeout &lt; Lease make that declaration come
/// before the lease can end, never after.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The lease-lost source has no timer; holders may still observe its token after release, so it is never disposed.")]
internal sealed class RedisLease
{
    private readonly LeaseSettings _settings;
    private readonly Func<RedisLease, Task<bool>> _extend;
    private readonly CancellationTokenSource _lost = new();
    private readonly object _gate = new();
    private ITimer? _timer;
    private Task _renewal = Task.CompletedTask;
    private long _lastConfirmed;
    private long _holderSince;
    private long _fencingToken;
    private int _localTokens;
    private bool _stopped;

    /// <param name="token">The lock's value in Redis.</param>
    /// <param name="fencingToken">The fencing token the acquire issued.</param>
    /// <param name="settings">Lease, renewal and bounds.</param>
    /// <param name="extend">One renewal call: true when extended, false when the lock is not ours; throws when Redis did not answer.</param>
    /// <param name="confirmedAt">The timestamp taken before the acquire was sent (the lease in Redis started after it).</param>
    /// <param name="localTokens">How many later local holders may take the next tokens (<see cref="TryNextToken"/>); none for a lease never handed on.</param>
    public RedisLease(string token, long fencingToken, LeaseSettings settings, Func<RedisLease, Task<bool>> extend, long confirmedAt, int localTokens = 0)
    {
        Token = token;
        _fencingToken = fencingToken;
        _localTokens = localTokens;
        _settings = settings;
        _extend = extend;
        _lastConfirmed = confirmedAt;
        _holderSince = settings.TimeProvider.GetTimestamp();
    }

    public string Token { get; }

    /// <summary>Gets the current holder's fencing token (it rises with each local hand-off, see <see cref="TryNextToken"/>).</summary>
    public long FencingToken => Volatile.Read(ref _fencingToken);

    public CancellationToken LeaseLost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Gets the timestamp taken before the last call that Redis confirmed extended (or acquired) the lock was sent.</summary>
    public long LastConfirmed => Volatile.Read(ref _lastConfirmed);

    /// <summary>Starts renewing: the first renewal is due <see cref="LeaseSettings.RenewalInterval"/> after <see cref="LastConfirmed"/>.</summary>
    public void Start()
    {
        lock (_gate)
        {
            _stopped = false;
            _timer ??= _settings.TimeProvider.CreateTimer(static state => ((RedisLease)state!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ScheduleLocked(_lastConfirmed);
        }
    }

    /// <summary>Renews again after <see cref="StopAsync"/>, for a lock that Redis kept (extended) by a call sent at <paramref name="confirmedAt"/>.</summary>
    public void Resume(long confirmedAt)
    {
        if (confirmedAt - Volatile.Read(ref _lastConfirmed) > 0)
        {
            Volatile.Write(ref _lastConfirmed, confirmedAt);
        }

        Start();
    }

    /// <summary>
    /// Whether Redis' last confirmation still covers a new holder: a renewal sent now would answer (within
    /// the operation timeout, plus 1% of the lease for the drift between this clock and Redis') before the
    /// lease can end. A lease that ran out by time (the process paused past it) is never handed on.
    /// </summary>
    public bool CoversNewHolder()
    {
        var margin = _settings.OperationTimeout + (_settings.Lease / 100);
        return _settings.TimeProvider.GetElapsedTime(LastConfirmed) + margin < _settings.Lease;
    }

    /// <summary>Takes the next local token for a new holder; false when this Redis fence has none left (the lease needs a new fence first).</summary>
    /// <remarks>Called under the key's turn lock: one holder at a time.</remarks>
    public bool TryNextToken()
    {
        if (_localTokens <= 0)
        {
            return false;
        }

        _localTokens--;
        Volatile.Write(ref _fencingToken, _fencingToken + 1);
        return true;
    }

    /// <summary>The lock was kept in Redis under a new fence: the next holder's token is <paramref name="fencingToken"/>, with <paramref name="localTokens"/> after it.</summary>
    public void Refence(long fencingToken, int localTokens)
    {
        if (fencingToken > Volatile.Read(ref _fencingToken))
        {
            Volatile.Write(ref _fencingToken, fencingToken);
            _localTokens = localTokens;
        }
    }

    /// <summary>
    /// A stage inside refused this lease's token (a later holder already wrote): the lock is not current, whatever
    /// Redis says. Marks it lost, so it is released rather than handed on and its holders see <see cref="LeaseLost"/>.
    /// </summary>
    public void Supersede() => MarkLost("a stage inside refused its fencing token: a later holder has already been through");

    /// <summary>The lock passes to another local holder: its maximum hold time starts again.</summary>
    public void NewHolder() => Volatile.Write(ref _holderSince, _settings.TimeProvider.GetTimestamp());

    /// <summary>Stops renewing before the lock is released in Redis, waiting (bounded) for a renewal in flight.</summary>
    public async Task StopAsync()
    {
        Task renewal;
        ITimer? timer;
        lock (_gate)
        {
            _stopped = true;
            renewal = _renewal;
            timer = _timer;
            _timer = null;
        }

        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await renewal.WaitAsync(_settings.OperationTimeout, _settings.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The renewal's own bound ends it; the release that follows is compare-and-delete either way.
        }
    }

    /// <summary>Arms the timer for the renewal due <see cref="LeaseSettings.RenewalInterval"/> after <paramref name="sentAt"/> (at once when that is past). Under the gate.</summary>
    private void ScheduleLocked(long sentAt)
    {
        if (_stopped || _timer is null)
        {
            return;
        }

        var due = _settings.RenewalInterval - _settings.TimeProvider.GetElapsedTime(sentAt);
        _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnTick()
    {
        lock (_gate)
        {
            if (_stopped || !_renewal.IsCompleted)
            {
                return;
            }

            _renewal = RenewAsync();
        }
    }

    private async Task RenewAsync()
    {
        var time = _settings.TimeProvider;
        if (time.GetElapsedTime(Volatile.Read(ref _holderSince)) >= _settings.MaxHoldTime)
        {
            MarkLost("it was held longer than the maximum hold time; renewal stopped");
            return;
        }

        var sent = time.GetTimestamp();
        try
        {
            if (await _extend(this).ConfigureAwait(false))
            {
                Volatile.Write(ref _lastConfirmed, sent);
                Schedule(sent);
                return;
            }

            if (!Volatile.Read(ref _stopped))
            {
                MarkLost("the lock was deleted, expired or taken by another holder");
            }
        }
        catch (Exception ex)
        {
            Log.RenewalFailed(_settings.Logger, _settings.StageName, _settings.Key, ex);

            // Not renewed, maybe still ours. The next renewal starts RenewalInterval after this one was sent
            // (now, if this one took longer) and may answer only OperationTimeout later: if the lease could
            // end by then, the loss is declared now, while the lease still runs.
            var confirmed = Volatile.Read(ref _lastConfirmed);
            var nextStart = time.GetElapsedTime(confirmed, sent) + _settings.RenewalInterval;
            var now = time.GetElapsedTime(confirmed);
            if ((nextStart > now ? nextStart : now) + _settings.OperationTimeout >= _settings.Lease)
            {
                MarkLost("Redis did not confirm a renewal, and the next one could answer only after the lease may have ended");
                return;
            }

            Schedule(sent);
        }
    }

    private void Schedule(long sentAt)
    {
        lock (_gate)
        {
            ScheduleLocked(sentAt);
        }
    }

    private void MarkLost(string reason)
    {
        ITimer? timer;
        lock (_gate)
        {
            if (_stopped || _lost.IsCancellationRequested)
            {
                return;
            }

            _stopped = true;
            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
        _settings.Telemetry.LeaseLost.Add(1, RedisLockTelemetry.Stage(_settings.StageName));
        Log.LeaseLost(_settings.Logger, _settings.StageName, _settings.Key.Resource, reason);
        _lost.CancelQuietly(); // from the renewal timer: a throwing callback of the work's must not end the process
    }
}

/// <summary>What a lease's watchdog needs to know; <c>OperationTimeout</c> bounds one whole renewal call (every node, for Redlock).</summary>
internal sealed record LeaseSettings(
    string StageName,
    LockKey Key,
    TimeSpan Lease,
    TimeSpan RenewalInterval,
    TimeSpan MaxHoldTime,
    TimeSpan OperationTimeout,
    TimeProvider TimeProvider,
    ILogger Logger,
    RedisLockTelemetry Telemetry);
