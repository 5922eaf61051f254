using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DualLock.Redis;

/// <summary>
/// Connects the registered Redis when the host starts, so the first request finds a connection instead of
/// making one. The start waits at most the connect timeout and never fails: while Redis is down the
/// application starts, the connection keeps retrying in the background and lock calls fail with
/// <see cref="LockUnavailableException"/> (a dual strategy falls back to its database lock).
/// </summary>
internal sealed class RedisConnectionStartup(RedisConnectionSource source, ILogger<RedisConnectionSource> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var start = TimeProvider.System.GetTimestamp();
        try
        {
            var redis = await source.ConnectAsync().WaitAsync(source.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            if (redis.IsConnected)
            {
                ConnectionLog.Connected(logger, source.Endpoints, TimeProvider.System.GetElapsedTime(start).TotalMilliseconds);
                return;
            }

            ConnectionLog.NotConnectedAtStart(logger, source.Endpoints, TimeProvider.System.GetElapsedTime(start).TotalMilliseconds, null);
        }
        catch (Exception ex) when (ex is TimeoutException || RedisCall.IsUnavailable(ex))
        {
            ConnectionLog.NotConnectedAtStart(logger, source.Endpoints, TimeProvider.System.GetElapsedTime(start).TotalMilliseconds, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
