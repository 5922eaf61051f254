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
public sealed class RedlockStage : LockStage
{
    private readonly IConnectionMultiplexer[] _nodes;
    private readonly RedlockOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _quorum;
    private readonly RedisValue _leaseMs;

    /// <summary>Initializes a new instance of the <see cref="RedlockStage"/> class.</summary>
    /// <param name="nodes">One connection per independent Redis master; at least three is the point.</param>
    /// <param name="options">The options, validated here. Default: <see cref="RedlockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <exception cref="ArgumentException">No node, or the options are invalid.</exception>
    public RedlockStage(IReadOnlyList<IConnectionMultiplexer> nodes, RedlockOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : base(ValidatedName(ref options))
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
        _leaseMs = ((long)Math.Ceiling(_options.Lease.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = context.Key;
        var names = new RedisKeyNames(_options.KeyPrefix, key);
        var start = _time.GetTimestamp();
        var contended = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var token = Guid.NewGuid().ToString("N");
            var attemptStart = _time.GetTimestamp();
            var bound = CallBound(start, waitTimeout);
            var answers = await Task.WhenAll(_nodes.Select(node => AcquireOnNodeAsync(node, names, token, bound))).ConfigureAwait(false);
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

    private static string ValidatedName(ref RedlockOptions? options)
    {
        options = (options ?? new RedlockOptions()).Clone();
        options.Validate();
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
            key.Resource, Name, _time.GetElapsedTime(start), new RedisConnectionException(ConnectionFailureType.UnableToConnect, $"{down} of {_nodes.Length} Redlock nodes did not answer; a majority of {_quorum} is impossible."));
    }

    /// <summary>One node's answer to the acquire script.</summary>
    private async Task<NodeAnswer> AcquireOnNodeAsync(IConnectionMultiplexer node, RedisKeyNames names, string token, TimeSpan bound)
    {
        try
        {
            var result = (RedisResult[])(await RedisCall.BoundedAsync(
                node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Acquire, names.AcquireKeys, [token, _leaseMs, token, "0"], CommandFlags.DemandMaster),
                bound,
                _time).ConfigureAwait(false))!;
            return (long)result[0] == 1 ? new(node, NodeOutcome.Granted, (long)result[1]) : new(node, NodeOutcome.Refused);
        }
        catch (TimeoutException) when (bound < _options.OperationTimeout)
        {
            return new(node, NodeOutcome.CutByWait); // the wait ran out first: says nothing about the node
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            return new(node, NodeOutcome.Unavailable);
        }
        catch (Exception ex)
        {
            return new(node, NodeOutcome.Failed, Error: ex);
        }
    }

    /// <summary>
    /// Raises the fence counter on the granting nodes that are behind, so any later majority sees the token.
    /// Returns the token, or null when too few nodes are at it (with the first non-outage error met, if any).
    /// </summary>
    private async Task<(long? Fence, Exception? Failure)> RaiseFenceAsync(string resource, RedisKeyNames names, NodeAnswer[] answers, TimeSpan bound)
    {
        var fence = answers.Max(a => a.Fence);
        var behind = answers.Where(a => a.Outcome == NodeOutcome.Granted && a.Fence < fence).ToArray();
        if (behind.Length == 0)
        {
            return (fence, null);
        }

        var raised = await Task.WhenAll(behind.Select(async a =>
        {
            try
            {
                await RedisCall.BoundedAsync(
                    a.Node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.RaiseFence, [names.Fence], [fence], CommandFlags.DemandMaster),
                    bound,
                    _time).ConfigureAwait(false);
                return (Exception?)null;
            }
            catch (Exception ex)
            {
                if (!RedisCall.IsUnavailable(ex))
                {
                    Log.NodeFailed(_logger, Name, resource, ex);
                }

                return ex;
            }
        })).ConfigureAwait(false);
        var atFence = answers.Count(a => a.Outcome == NodeOutcome.Granted && a.Fence == fence) + raised.Count(r => r is null);
        return atFence >= _quorum ? (fence, null) : (null, raised.FirstOrDefault(r => r is not null && !RedisCall.IsUnavailable(r)));
    }

    private async Task<bool> ExtendAsync(RedisKeyNames names, LockKey key, string token)
    {
        var answers = await Task.WhenAll(_nodes.Select(async node =>
        {
            try
            {
                var result = await RedisCall.BoundedAsync(
                    node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Extend, names.LockKeys, [token, _leaseMs], CommandFlags.DemandMaster),
                    _options.OperationTimeout,
                    _time).ConfigureAwait(false);
                return ((long)result == 1 ? 1 : 0, (Exception?)null);
            }
            catch (Exception ex) when (RedisCall.IsUnavailable(ex))
            {
                return (-1, null);
            }
            catch (Exception ex)
            {
                // Like at acquire: a node's error counts as a node that did not confirm.
                Log.NodeFailed(_logger, Name, key.Resource, ex);
                return (-1, ex);
            }
        })).ConfigureAwait(false);

        if (answers.Count(a => a.Item1 == 1) >= _quorum)
        {
            return true;
        }

        if (answers.Count(a => a.Item1 == 0) > _nodes.Length - _quorum)
        {
            return false; // a majority no longer holds our token
        }

        if (answers.FirstOrDefault(a => a.Item2 is not null).Item2 is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        throw new TimeoutException("Too few Redlock nodes answered the renewal to confirm a majority.");
    }

    private async Task ReleaseAllAsync(RedisKeyNames names, string token)
    {
        await Task.WhenAll(_nodes.Select(node => ReleaseOnNodeAsync(node, names, token))).ConfigureAwait(false);
    }

    /// <summary>
    /// Releases on every node. Waits for the nodes that answered the acquire; a node that did not is
    /// sent the release (queued behind the acquire on its connection) without holding the caller up.
    /// An error here is swallowed: the attempt's own outcome matters, a leftover grant ends with its lease.
    /// </summary>
    private async Task ReleaseAfterFailedAttemptAsync(LockKey key, RedisKeyNames names, string token, NodeAnswer[] answers)
    {
        var waited = new List<Task>(answers.Length);
        foreach (var answer in answers)
        {
            var release = ReleaseOnNodeAsync(answer.Node, names, token);
            if (answer.Outcome is NodeOutcome.Unavailable or NodeOutcome.CutByWait)
            {
                RedisCall.Observe(release);
            }
            else
            {
                waited.Add(release);
            }
        }

        try
        {
            await Task.WhenAll(waited).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ReleaseFailed(_logger, Name, key.Resource, ex);
        }
    }

    private async Task ReleaseOnNodeAsync(IConnectionMultiplexer node, RedisKeyNames names, string token)
    {
        try
        {
            await RedisCall.BoundedAsync(
                node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Release, names.LockKeys, [token, names.ChannelName], CommandFlags.DemandMaster),
                _options.OperationTimeout,
                _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            // A node that is down lets the key expire with its lease.
        }
    }

    private LeaseSettings Settings(LockKey key) => new(
        Name, key, _options.Lease, _options.RenewalInterval ?? _options.Lease / 3, _options.MaxHoldTime, _options.OperationTimeout * 2, _time, _logger);

    private enum NodeOutcome
    {
        Refused,
        Granted,
        Unavailable,
        CutByWait,
        Failed,
    }

    /// <summary>A node's answer; <see cref="Fence"/> only when granted, <see cref="Error"/> only when failed.</summary>
    private readonly record struct NodeAnswer(IConnectionMultiplexer Node, NodeOutcome Outcome, long Fence = 0, Exception? Error = null);

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
