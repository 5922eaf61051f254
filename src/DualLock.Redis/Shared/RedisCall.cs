using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// Bounds every Redis call: StackExchange.Redis with <c>abortConnect=false</c> queues commands while
/// disconnected, so without a bound an outage would look like a long wait instead of an error.
/// </summary>
internal static class RedisCall
{
    public static async Task<T> BoundedAsync<T>(Task<T> call, TimeSpan timeout, TimeProvider timeProvider)
    {
        try
        {
            return await call.WaitAsync(timeout, timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Observe(call);
            throw;
        }
    }

    public static async Task BoundedAsync(Task call, TimeSpan timeout, TimeProvider timeProvider)
    {
        try
        {
            await call.WaitAsync(timeout, timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Observe(call);
            throw;
        }
    }

    /// <summary>Whether the failure means the server could not be reached or did not answer (as opposed to a bug): an outage (see <see cref="RedisErrors"/>).</summary>
    public static bool IsUnavailable(Exception exception)
        => exception is RedisConnectionException or RedisTimeoutException or TimeoutException or RedisServerException
           && RedisErrors.Classify(exception) == RedisErrorClass.Unavailable;

    /// <summary>Whether Redis refused an EVALSHA because it does not have the script (restarted, flushed, failed over): the script did not run.</summary>
    public static bool IsNoScript(Exception exception)
        => exception is RedisServerException && RedisErrors.Classify(exception) == RedisErrorClass.NoScript;

    /// <summary>A call abandoned after its bound may still fail later; observe it so it is not an unobserved task exception.</summary>
    public static void Observe(Task call)
        => call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
