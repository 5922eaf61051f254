namespace UserPointApi;

/// <summary>The sample's log messages (event ids 1-99; the error middleware has its own).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "UserPointApi: {Strategies}; key scope {Scope}; wait {WaitMs} ms; race window {RaceMs} ms.")]
    public static partial void Started(ILogger logger, string strategies, string scope, int waitMs, int raceMs);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "The database is not reachable yet ({Reason}); retrying.")]
    public static partial void WaitingForMySql(ILogger logger, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Schema is up to date ({Tables} statements).")]
    public static partial void Migrated(ILogger logger, int tables);
}
