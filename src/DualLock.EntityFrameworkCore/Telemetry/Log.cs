using Microsoft.Extensions.Logging;

namespace DualLock.EntityFrameworkCore;

/// <summary>Log messages of the EF Core package: event ids 4000-4099. Keys appear only at Debug.</summary>
internal static partial class Log
{
    [LoggerMessage(4000, LogLevel.Debug, "The '{Stage}' stage saved {Entries} entries the work left unsaved on resource '{Resource}', before the commit")]
    public static partial void SavedLeftChanges(ILogger logger, string stage, string resource, int entries);

    [LoggerMessage(4001, LogLevel.Warning, "The '{Stage}' stage could not save the work's changes on resource '{Resource}'; the transaction is rolled back")]
    public static partial void SaveFailed(ILogger logger, string stage, string resource, Exception exception);
}
