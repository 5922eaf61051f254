using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The Redlock algorithm over independent Redis masters: the lock is held only when a majority
/// granted it within its validity (lease minus elapsed time minus clock drift); otherwise it is
/// released on every node. Renewal needs a majority too. The fencing token is the highest counter
/// of the granting majority, raised on the nodes that were behind so the next majority sees it.
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

    /// <summary>A lock of its own (released independently of any transaction) that issues fencing tokens.</summary>
    protected override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

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
            var answers = await Task.WhenAll(_nodes.Select(node => AcquireOnNodeAsync(node, names, token))).ConfigureAwait(false);
            var granted = answers.Count(a => a.Fence > 0);
            var unreachable = answers.Count(a => a.Fence < 0);
            var drift = (_options.Lease * _options.ClockDriftFactor) + TimeSpan.FromMilliseconds(2);
            var validity = _options.Lease - _time.GetElapsedTime(attemptStart) - drift;
            if (granted >= _quorum && validity > TimeSpan.Zero && await RaiseFenceAsync(names, answers).ConfigureAwait(false) is { } fence)
            {
                var lease = new RedisLease(token, fence, Settings(key), _ => ExtendAsync(names, token), attemptStart);
                lease.Start();
                return new RedlockHandle(this, names, lease, contended);
            }

            if (granted > 0)
            {
                Log.QuorumMissed(_logger, Name, key.Resource, granted, _nodes.Length, _quorum);
            }

            await ReleaseAllAsync(names, token).ConfigureAwait(false);
            if (unreachable > _nodes.Length - _quorum)
            {
                throw new LockUnavailableException(
                    key.Resource, Name, _time.GetElapsedTime(start), new RedisConnectionException(ConnectionFailureType.UnableToConnect, $"{unreachable} of {_nodes.Length} Redlock nodes did not answer; a majority of {_quorum} is impossible."));
            }

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

    /// <summary>Returns the fencing token granted by the node (&gt; 0), 0 when the node refused, -1 when it did not answer.</summary>
    private async Task<(IConnectionMultiplexer Node, long Fence)> AcquireOnNodeAsync(IConnectionMultiplexer node, RedisKeyNames names, string token)
    {
        try
        {
            var result = (RedisResult[])(await RedisCall.BoundedAsync(
                node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Acquire, names.AcquireKeys, [token, _leaseMs, token, "0"], CommandFlags.DemandMaster),
                _options.OperationTimeout,
                _time).ConfigureAwait(false))!;
            return (node, (long)result[0] == 1 ? (long)result[1] : 0);
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            return (node, -1);
        }
    }

    /// <summary>Raises the fence counter on the granting nodes that are behind, so any later majority sees the token; null when that fails.</summary>
    private async Task<long?> RaiseFenceAsync(RedisKeyNames names, (IConnectionMultiplexer Node, long Fence)[] answers)
    {
        var fence = answers.Max(a => a.Fence);
        var behind = answers.Where(a => a.Fence > 0 && a.Fence < fence).ToArray();
        if (behind.Length == 0)
        {
            return fence;
        }

        var raised = await Task.WhenAll(behind.Select(async a =>
        {
            try
            {
                await RedisCall.BoundedAsync(
                    a.Node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.RaiseFence, [names.Fence], [fence], CommandFlags.DemandMaster),
                    _options.OperationTimeout,
                    _time).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (RedisCall.IsUnavailable(ex))
            {
                return false;
            }
        })).ConfigureAwait(false);
        var atFence = answers.Count(a => a.Fence == fence) + raised.Count(r => r);
        return atFence >= _quorum ? fence : null;
    }

    private async Task<bool> ExtendAsync(RedisKeyNames names, string token)
    {
        var answers = await Task.WhenAll(_nodes.Select(async node =>
        {
            try
            {
                var result = await RedisCall.BoundedAsync(
                    node.GetDatabase().ScriptEvaluateAsync(RedisLockScripts.Extend, names.LockKeys, [token, _leaseMs], CommandFlags.DemandMaster),
                    _options.OperationTimeout,
                    _time).ConfigureAwait(false);
                return (long)result == 1 ? 1 : 0;
            }
            catch (Exception ex) when (RedisCall.IsUnavailable(ex))
            {
                return -1;
            }
        })).ConfigureAwait(false);

        if (answers.Count(a => a == 1) >= _quorum)
        {
            return true;
        }

        if (answers.Count(a => a == 0) > _nodes.Length - _quorum)
        {
            return false; // a majority no longer holds our token
        }

        throw new TimeoutException("Too few Redlock nodes answered the renewal to confirm a majority.");
    }

    private async Task ReleaseAllAsync(RedisKeyNames names, string token)
    {
        await Task.WhenAll(_nodes.Select(async node =>
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
        })).ConfigureAwait(false);
    }

    private LeaseSettings Settings(LockKey key) => new(
        Name, key, _options.Lease, _options.RenewalInterval ?? _options.Lease / 3, _options.MaxHoldTime, _options.OperationTimeout * 2, _time, _logger);

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
