using Microsoft.Extensions.Logging;

namespace DualLock.Redis;

/// <summary>Log messages of the registered Redis connection: event ids 2080-2089 (of the Redis package's 2000-2099).</summary>
internal static partial class ConnectionLog
{
    [LoggerMessage(2080, LogLevel.Debug, "Connecting to Redis {Endpoints} (connect timeout {ConnectTimeoutMs:0} ms)")]
    public static partial void Connecting(ILogger logger, string endpoints, double connectTimeoutMs);

    [LoggerMessage(2081, LogLevel.Information, "Connected to Redis {Endpoints} at host start in {ElapsedMs:0} ms")]
    public static partial void Connected(ILogger logger, string endpoints, double elapsedMs);

    [LoggerMessage(2082, LogLevel.Warning, "Redis {Endpoints} is not connected after {ElapsedMs:0} ms at host start; the host starts anyway, the connection keeps retrying and Redis lock calls fail as unavailable until it connects")]
    public static partial void NotConnectedAtStart(ILogger logger, string endpoints, double elapsedMs, Exception? exception);
}
