using Microsoft.Extensions.Logging;

namespace DualLock.Redis;

/// <summary>
/// One ownership of a lock in Redis: its token and fencing token, and the watchdog that extends it
/// while it is held. It outlives a single holder when the lock is handed to a local waiter.
/// </summary>
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
    private bool _stopped;

    public RedisLease(string token, long fencingToken, LeaseSettings settings, Func<RedisLease, Task<bool>> extend, long acquiredAt)
    {
        Token = token;
        FencingToken = fencingToken;
        _settings = settings;
        _extend = extend;
        AcquiredAt = acquiredAt;
        _lastConfirmed = acquiredAt;
        _holderSince = acquiredAt;
    }

    public string Token { get; }

    public long FencingToken { get; }

    /// <summary>When the lock was taken in Redis, or kept at the end of a hand-off period (hand-offs do not reset it).</summary>
    public long AcquiredAt { get; private set; }

    /// <summary>Consecutive hand-offs since the Redis acquire.</summary>
    public int Handoffs { get; set; }

    public CancellationToken LeaseLost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public void Start()
    {
        var period = _settings.RenewalInterval;
        _timer = _settings.TimeProvider.CreateTimer(static state => ((RedisLease)state!).OnTick(), this, period, period);
    }

    /// <summary>The lock was kept in Redis at the end of a hand-off period: the next period starts now.</summary>
    public void StartNewPeriod()
    {
        AcquiredAt = _settings.TimeProvider.GetTimestamp();
        Handoffs = 0;
    }

    /// <summary>Renews again after <see cref="StopAsync"/>, for a lock that was kept rather than released.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _stopped = false;
        }

        Start();
    }

    /// <summary>The lock passes to another local holder: its maximum hold time starts again.</summary>
    public void NewHolder() => Volatile.Write(ref _holderSince, _settings.TimeProvider.GetTimestamp());

    /// <summary>Stops renewing before the lock is released in Redis, waiting (bounded) for a renewal in flight.</summary>
    public async Task StopAsync()
    {
        Task renewal;
        lock (_gate)
        {
            _stopped = true;
            renewal = _renewal;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
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

        var started = time.GetTimestamp();
        try
        {
            if (await _extend(this).ConfigureAwait(false))
            {
                Volatile.Write(ref _lastConfirmed, started);
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

            // Not renewed, maybe still ours: only when the lease may already have ended is it lost.
            if (!Volatile.Read(ref _stopped) && time.GetElapsedTime(Volatile.Read(ref _lastConfirmed)) + _settings.RenewalInterval >= _settings.Lease)
            {
                MarkLost("Redis did not confirm a renewal before the lease could end");
            }
        }
    }

    private void MarkLost(string reason)
    {
        lock (_gate)
        {
            if (_stopped || _lost.IsCancellationRequested)
            {
                return;
            }

            _stopped = true;
        }

        _timer?.Dispose();
        RedisLockTelemetry.LeaseLost.Add(1, RedisLockTelemetry.Stage(_settings.StageName));
        Log.LeaseLost(_settings.Logger, _settings.StageName, _settings.Key.Resource, reason);
        _lost.Cancel();
    }
}

/// <summary>What a lease's watchdog needs to know.</summary>
internal sealed record LeaseSettings(
    string StageName,
    LockKey Key,
    TimeSpan Lease,
    TimeSpan RenewalInterval,
    TimeSpan MaxHoldTime,
    TimeSpan OperationTimeout,
    TimeProvider TimeProvider,
    ILogger Logger);
