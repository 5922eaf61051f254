using System.Runtime.ExceptionServices;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>The calls to each node; every one bounded, and none lets a node's failure escape without an answer.</summary>
internal sealed partial class RedlockStage
{
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
        catch (Exception ex) when (RedisErrors.IsUnavailableForAcquire(ex))
        {
            // Down, or refusing writes (-OOM, -NOREPLICAS, -MISCONF): either way a node that cannot grant now (see RedisErrors).
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
            if (!node.GetDatabase().IsConnected(names.Lock, CommandFlags.DemandMaster))
            {
                return (-1, (Exception?)null);
            }

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
        if (!node.GetDatabase().IsConnected(names.Lock, CommandFlags.DemandMaster))
        {
            return; // a node known to be down lets the key expire with its lease: do not hold the caller a whole bound
        }

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
}
