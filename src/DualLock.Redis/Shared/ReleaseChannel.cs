using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// Subscribes a key's release channel beside the waiter's rechecks, never ahead of them: the channel only
/// speeds a waiter up (a release wakes it at once); the recheck interval is what bounds how late it sees a free key.
/// </summary>
/// <remarks>
/// Awaiting the subscription held a waiter up for as long as SUBSCRIBE took: up to the call bound, past a shorter
/// wait, while the pub/sub connection was half-open after a network fault or still reconnecting (the fault search
/// found it, docs/fault-search.md). A client that may not subscribe at all (a command map or a proxy without
/// SUBSCRIBE) threw out of the acquire. The subscription's end, confirmed or failed, wakes the waiter: a release
/// between its attempt and the subscription sent no message it could see, so it attempts again at once.
/// </remarks>
internal static class ReleaseChannel
{
    /// <summary>Starts subscribing <paramref name="channel"/>; calls <paramref name="wake"/> when the subscription is confirmed or has failed (logged).</summary>
    public static void SubscribeBeside(
        IConnectionMultiplexer redis, RedisChannel channel, Action<RedisChannel, RedisValue> handler, Action wake, ILogger logger, string stage, LockKey key)
    {
        Task subscribing;
        try
        {
            subscribing = redis.GetSubscriber().SubscribeAsync(channel, handler);
        }
#pragma warning disable CA1031 // any failure to subscribe leaves the waiter polling, as documented; the next attempt reports an outage
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SubscribeFailed(logger, stage, key, ex); // refused by the client itself: not in its command map
            return;
        }

        // Unbounded here on purpose: nobody waits for it, and the client ends a call that gets no answer (its async timeout).
        subscribing.ContinueWith(
            static (t, state) =>
            {
                var (wake, logger, stage, key) = ((Action, ILogger, string, LockKey))state!;
                if (t.Exception is { } failure)
                {
                    Log.SubscribeFailed(logger, stage, key, failure.InnerException ?? failure);
                }

                wake();
            },
            (wake, logger, stage, key),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
