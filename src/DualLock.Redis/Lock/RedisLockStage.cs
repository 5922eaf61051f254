using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// A lock per key in one Redis server (or a Redis Cluster): atomic acquire that issues a fencing
/// token, compare-token release and renewal, a renewal watchdog, release messages that wake waiters,
/// and a first-come-first-served queue per key inside the process with bounded local hand-off.
/// While Redis is known to be unavailable for a key's server, acquires fail at once.
/// </summary>
/// <remarks>
/// Redis keys for <c>user-point:42</c> with the default prefix: the lock <c>duallock:{user-point:42}</c>,
/// the fencing counter <c>duallock:{user-point:42}:fence</c> (kept forever, so tokens keep increasing),
/// the next-turn reservation <c>duallock:{user-point:42}:next</c> (short expiry) and the release
/// channel <c>duallock:{user-point:42}:released</c>.
/// </remarks>
internal sealed partial class RedisLockStage : LockStage
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisLockOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisLockTelemetry _telemetry;
    private readonly KeyedRegistry<KeyTurn> _turns = new();
    private readonly RedisOutages _outages = new();
    private readonly AbandonedAcquires _abandoned = new();
    private readonly BoundedWaits _waits;
    private readonly RedisValue _contenderId = Guid.NewGuid().ToString("N");
    private readonly RedisValue _leaseMs;
    private readonly RedisValue _reserveMs;

    /// <summary>Initializes a new instance of the <see cref="RedisLockStage"/> class.</summary>
    /// <param name="redis">The connection; share one per application.</param>
    /// <param name="options">The options, already validated by the builder (not copied: the caller must not change them). Default: <see cref="RedisLockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <param name="meter">The meter of the build context. Default: a meter named <c>DualLock</c> (stages created outside a pipeline).</param>
    public RedisLockStage(IConnectionMultiplexer redis, RedisLockOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, Meter? meter = null)
        : base(StageName(ref options))
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _options = options!;
        _time = timeProvider ?? TimeProvider.System;
        _waits = new BoundedWaits(_time);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis");
        _telemetry = RedisLockTelemetry.For(meter);
        _leaseMs = Ms(_options.Lease);
        _reserveMs = Ms(_options.RecheckInterval * 2);
    }

    /// <summary>Gets the number of keys this process currently holds or waits for (idle keys are forgotten).</summary>
    internal int ActiveKeyCount => _turns.Count;

    /// <summary>Gets the number of Redis servers (hash slots, on a cluster) known to be unavailable now.</summary>
    internal int KnownOutageCount => _outages.Count;

    /// <summary>A lock of its own (released independently of any transaction) that issues fencing tokens.</summary>
    protected internal override LockStageTraits Traits => StageTraits;

    /// <summary>What the Redis lock declares; shared with the stage that stands in for it until the connection is made.</summary>
    internal const LockStageTraits StageTraits = LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= AcquireKeyAsync, cancellationToken);

    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    private ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        if (_outages.Count > 0 && _outages.Find(_redis.HashSlot(Entry(key).Names.Lock)) is { } outage)
        {
            // A known outage fails before the key's local turn and without a throw: in a retry storm every
            // caller lands here, and an exception thrown through the turn's frames and failing its queued
            // waiters was most of the CPU of each 503 (the p99 of the fail-fast answers rose with it).
            return ValueTask.FromException<LockStageHandle?>(KnownUnavailable(key, outage, TimeSpan.Zero));
        }

        return AcquireAsync(context, key, waitTimeout, cancellationToken);
    }

    private async ValueTask<LockStageHandle?> AcquireAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var start = _time.GetTimestamp();
        var entry = Entry(key);
        var turn = _turns.Enter(entry.Text, NewTurn, (this, entry), _options.MaxQueueLength);
        if (turn is null)
        {
            _telemetry.QueueFull.Add(1, RedisLockTelemetry.Stage(Name));
            Log.LocalQueueFull(_logger, Name, key.Resource, _options.MaxQueueLength);
            return null;
        }

        LockStageHandle? handle = null;
        try
        {
            var contended = false;
            if (!turn.TryTakeTurn(mayQueue: waitTimeout > TimeSpan.Zero, Bounds, out var waiter))
            {
                if (waiter is null)
                {
                    return null; // held here, and the caller may not wait
                }

                contended = true;
                var grant = await WaitForTurnAsync(turn, key, waiter, start, waitTimeout, cancellationToken).ConfigureAwait(false);
                switch (grant.Outcome)
                {
                    case TurnOutcome.TimedOut:
                        return null;
                    case TurnOutcome.HandedOff:
                        return handle = new RedisLockHandle(this, turn, key, grant.Lease!, contended: true);
                    case TurnOutcome.CancelledHolding:
                        await EndTurnAsync(turn, key, grant.Lease!, exit: false).ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new OperationCanceledException(cancellationToken);
                }
            }

            RedisLease? lease = null;
            try
            {
                // The first attempt is made here, not in ContendAsync: uncontended, the whole acquire is this
                // one state machine. Without a subscription yet no release message can come before it (a failed
                // attempt subscribes and tries again), so the wake to wait for is needed only with one.
                var wake = turn.Handler is null ? null : turn.NextWake;
                var attempt = BeginAttempt(turn, key, start, waitTimeout);
                (RedisLease? Lease, long RetryMs) first;
                if (attempt.Call is null)
                {
                    first = (null, CutShort);
                }
                else
                {
                    try
                    {
                        first = EndAttempt(turn, entry, attempt, await _waits.WaitAsync(attempt.Call, attempt.Bound).ConfigureAwait(false));
                    }
                    catch (RedisServerException ex) when (RedisCall.IsNoScript(ex))
                    {
                        first = await TryAcquireOnceAsync(turn, entry, key, start, waitTimeout, byText: true).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsAttemptFailure(ex, attempt))
                    {
                        first = AttemptFailed(turn, key, start, attempt, ex);
                    }
                }

                lease = first.Lease;
                if (lease is null)
                {
                    (lease, var waited) = await ContendAsync(turn, entry, key, first.RetryMs, wake, start, waitTimeout, cancellationToken).ConfigureAwait(false);
                    contended |= waited;
                }

                if (lease is not null && _options.WaitForReplicas > 0)
                {
                    var taken = lease;
                    lease = null; // not replicated: released, not passed on (see ConfirmReplicatedAsync)
                    await ConfirmReplicatedAsync(turn, key, taken, start).ConfigureAwait(false);
                    lease = taken;
                }
            }
            catch (LockUnavailableException unavailable)
            {
                turn.FailWaiters(unavailable);
                throw;
            }
            finally
            {
                if (lease is null && !turn.PassTurn(null) && waitTimeout > TimeSpan.Zero)
                {
                    // Nobody here contends next: a next-turn reservation this process made while waiting
                    // would refuse the other processes a free key until it expires.
                    ForgoReservedTurn(turn);
                }
            }

            return lease is null ? null : handle = new RedisLockHandle(this, turn, key, lease, contended);
        }
        finally
        {
            if (handle is null)
            {
                ExitTurn(turn);
            }
        }
    }

    /// <summary>Ends a holder's turn (see <see cref="EndTurnAsync"/>) and its use of the key.</summary>
    internal ValueTask ReleaseAsync(KeyTurn turn, LockKey key, RedisLease lease) => EndTurnAsync(turn, key, lease, exit: true);

    /// <summary>Gets how many callers of this process wait for <paramref name="key"/> behind the one in turn (for tests).</summary>
    internal int WaiterCount(LockKey key) => _turns.Find(key.ToString())?.WaiterCount ?? 0;

    private static string StageName(ref RedisLockOptions? options)
    {
        options ??= new RedisLockOptions();
        Debug.Assert(options.Validate().Count == 0, "The builder validates the options when the stage is added.");
        return options.Name;
    }

    private static string Ms(TimeSpan value) => ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits in the local queue for the turn.</summary>
    private async Task<TurnGrant> WaitForTurnAsync(KeyTurn turn, LockKey key, TurnWaiter waiter, long start, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return await turn.WaitForTurnAsync(waiter, waitTimeout - _time.GetElapsedTime(start), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            // The caller in turn found Redis unavailable and failed the queue: report it as this caller's own.
            throw new LockUnavailableException(key.Resource, Name, _time.GetElapsedTime(start), ex.InnerException ?? ex);
        }
    }

    private void ExitTurn(KeyTurn turn)
    {
        if (_turns.Exit(turn) && turn.Handler is { } handler)
        {
            RedisCall.Observe(_redis.GetSubscriber().UnsubscribeAsync(turn.Names.Channel, handler));
        }
    }

    private PassBounds Bounds => new(_options.MaxConsecutiveHandoffs, _options.MaxHandoffTime, _time);

    private LeaseSettings Settings(LockKey key) => new(
        Name, key, _options.Lease, _options.EffectiveRenewalInterval, _options.MaxHoldTime, _options.OperationTimeout, _time, _logger, _telemetry);
}
