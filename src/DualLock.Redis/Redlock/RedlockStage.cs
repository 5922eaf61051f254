using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The Redlock algorithm over independent Redis masters: the lock is held only when a majority
/// granted it and is still within its validity (lease minus elapsed time minus clock drift) once
/// the fence is raised; otherwise it is released on every node, whatever each node answered.
/// A node that is down or answers with an error counts as not granting; renewal needs a majority too.
/// The fencing token is the highest counter of the granting majority, raised on the nodes that were
/// behind so the next majority sees it.
/// </summary>
internal sealed partial class RedlockStage : LockStage
{
    private readonly IConnectionMultiplexer[] _nodes;
    private readonly RedlockOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisLockTelemetry _telemetry;
    private readonly int _quorum;
    private readonly RedisValue _leaseMs;

    /// <summary>Initializes a new instance of the <see cref="RedlockStage"/> class.</summary>
    /// <param name="nodes">One connection per independent Redis master; at least three is the point.</param>
    /// <param name="options">The options, already validated by the builder (not copied: the caller must not change them). Default: <see cref="RedlockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <param name="meter">The meter of the build context. Default: a meter named <c>DualLock</c> (stages created outside a pipeline).</param>
    /// <exception cref="ArgumentException">No node, or the options are invalid.</exception>
    public RedlockStage(IReadOnlyList<IConnectionMultiplexer> nodes, RedlockOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, Meter? meter = null)
        : base(StageName(ref options))
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0 || nodes.Any(n => n is null))
        {
            throw new ArgumentException("Redlock needs at least one node connection (three or more independent masters in practice), and none may be null.", nameof(nodes));
        }

        _nodes = [.. nodes];
        _options = options!;
        _quorum = (_nodes.Length / 2) + 1;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.Redis");
        _telemetry = RedisLockTelemetry.For(meter);
        _leaseMs = ((long)Math.Ceiling(_options.Lease.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A lock of its own (released independently of any transaction) that issues fencing tokens.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey ??= AcquireKeyAsync, cancellationToken);

    // Made once (a race makes it twice, harmlessly): a method group would be a new delegate per call.
    private Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>>? _acquireKey;

    private async ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var names = new RedisKeyNames(_options.KeyPrefix, key);
        var start = _time.GetTimestamp();
        var contended = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var token = Guid.NewGuid().ToString("N");
            var attemptStart = _time.GetTimestamp();
            var bound = CallBound(start, waitTimeout);
            // Asked once per attempt: a node the connection knows is down is not sent the acquire (nothing
            // would answer before the bound), and a majority known down fails the attempt at once.
            var connected = Array.ConvertAll(_nodes, node => node.GetDatabase().IsConnected(names.Lock, CommandFlags.DemandMaster));
            var disconnected = connected.Count(up => !up);
            if (disconnected > _nodes.Length - _quorum)
            {
                // The connections already know a majority is down: fail at once instead of asking the rest.
                throw new LockUnavailableException(
                    key.Resource, Name, _time.GetElapsedTime(start), new RedisConnectionException(ConnectionFailureType.UnableToConnect, $"{disconnected} of {_nodes.Length} Redlock nodes are disconnected; a majority of {_quorum} is impossible."));
            }

            var answers = await Task.WhenAll(_nodes.Select((node, i) => connected[i]
                ? AcquireOnNodeAsync(node, names, token, bound)
                : Task.FromResult(new NodeAnswer(node, NodeOutcome.Unavailable)))).ConfigureAwait(false);
            var granted = answers.Count(a => a.Outcome == NodeOutcome.Granted);
            foreach (var failed in answers.Where(a => a.Outcome == NodeOutcome.Failed))
            {
                Log.NodeFailed(_logger, Name, key.Resource, failed.Error!);
            }

            Exception? failure = null;
            var held = false;
            try
            {
                if (granted >= _quorum && Validity(attemptStart) > TimeSpan.Zero)
                {
                    (var fence, failure) = await RaiseFenceAsync(key.Resource, names, answers, Min(CallBound(start, waitTimeout), Validity(attemptStart))).ConfigureAwait(false);

                    // The raise is another round trip: the majority's grants may have run out meanwhile.
                    if (fence is { } f && Validity(attemptStart) > TimeSpan.Zero)
                    {
                        var lease = new RedisLease(token, f, Settings(key), _ => ExtendAsync(names, key, token), attemptStart);
                        lease.Start();
                        held = true;
                        return new RedlockHandle(this, names, lease, contended);
                    }
                }
                else if (granted > 0)
                {
                    Log.QuorumMissed(_logger, Name, key.Resource, granted, _nodes.Length, _quorum);
                }
            }
            finally
            {
                if (!held)
                {
                    // Every node that may have granted, also one that answered with an error: a script
                    // that failed half way (its SET ran, its INCR did not) still holds the lock there.
                    await ReleaseAfterFailedAttemptAsync(key, names, token, answers).ConfigureAwait(false);
                }
            }

            ThrowIfMajorityImpossible(key, start, answers, failure);
            var remaining = waitTimeout - _time.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            contended = true;
#pragma warning disable CA5394 // jitter, not security
            var pause = TimeSpan.FromMilliseconds(Random.Shared.Next(1, (int)_options.MaxRetryDelay.TotalMilliseconds + 1));
#pragma warning restore CA5394
            await Task.Delay(pause < remaining ? pause : remaining, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    internal async ValueTask ReleaseAsync(RedisKeyNames names, RedisLease lease)
    {
        await lease.StopAsync().ConfigureAwait(false);
        await ReleaseAllAsync(names, lease.Token).ConfigureAwait(false);
    }

    private static string StageName(ref RedlockOptions? options)
    {
        options ??= new RedlockOptions();
        Debug.Assert(options.Validate().Count == 0, "The builder validates the options when the stage is added.");
        return options.Name;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// The bound of each node call in an attempt: the operation timeout, cut to the time left of the
    /// wait; a call without a wait (try once) still gets one whole round trip.
    /// </summary>
    private TimeSpan CallBound(long start, TimeSpan waitTimeout)
    {
        if (waitTimeout <= TimeSpan.Zero)
        {
            return _options.OperationTimeout;
        }

        var left = waitTimeout - _time.GetElapsedTime(start);
        return left <= TimeSpan.Zero ? TimeSpan.Zero : Min(left, _options.OperationTimeout);
    }

    /// <summary>The lease minus what the attempt took minus the clock drift between the nodes.</summary>
    private TimeSpan Validity(long attemptStart)
        => _options.Lease - _time.GetElapsedTime(attemptStart) - (_options.Lease * _options.ClockDriftFactor) - TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Too many nodes failed for any majority to grant. A node error that is not an outage (-OOM,
    /// -NOREPLICAS, WRONGTYPE, a script error) counts as a node that did not grant, so a minority of
    /// them is tolerated like a minority that is down; when they make the majority impossible, the
    /// error itself is thrown (it needs fixing, and waiting or falling back would hide it).
    /// </summary>
    private void ThrowIfMajorityImpossible(LockKey key, long start, NodeAnswer[] answers, Exception? raiseFailure)
    {
        if (raiseFailure is not null)
        {
            ExceptionDispatchInfo.Throw(raiseFailure);
        }

        var down = answers.Count(a => a.Outcome == NodeOutcome.Unavailable);
        var failed = answers.Where(a => a.Outcome == NodeOutcome.Failed).ToArray();
        if (down + failed.Length <= _nodes.Length - _quorum)
        {
            return;
        }

        if (failed.Length > 0)
        {
            ExceptionDispatchInfo.Throw(failed[0].Error!);
        }

        throw new LockUnavailableException(
            key.Resource, Name, _time.GetElapsedTime(start), new RedisConnectionException(ConnectionFailureType.UnableToConnect, $"{down} of {_nodes.Length} Redlock nodes did not answer or refused writes; a majority of {_quorum} is impossible."));
    }

    private LeaseSettings Settings(LockKey key) => new(
        Name, key, _options.Lease, _options.RenewalInterval ?? _options.Lease / 3, _options.MaxHoldTime, _options.OperationTimeout * 2, _time, _logger, _telemetry);

    private sealed class RedlockHandle(RedlockStage stage, RedisKeyNames names, RedisLease lease, bool contended) : LockStageHandle
    {
        private int _released;

        public override long? FencingToken => lease.FencingToken;

        public override CancellationToken LeaseLost => lease.LeaseLost;

        public override bool Contended => contended;

        public override ValueTask ReleaseAsync(bool workSucceeded)
            => Interlocked.Exchange(ref _released, 1) == 0 ? stage.ReleaseAsync(names, lease) : ValueTask.CompletedTask;
    }
}
