using System.Globalization;
using Microsoft.Extensions.Logging;

namespace DualLock.FaultSearch.Workload;

/// <summary>
/// The worker's log file (<c>log-{pid}.txt</c>): what DualLock warns about, the Redis stages' debug lines, and what StackExchange.Redis says
/// about its connections, each line stamped with <see cref="Environment.TickCount64"/> (the clock of the fault
/// windows and the probes), so a finding can be read against the schedule. Harness only: one writer, one lock.
/// </summary>
internal sealed class WorkerLog : ILoggerFactory
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    public WorkerLog(string path) => _writer = new StreamWriter(path) { AutoFlush = true };

    public ILogger CreateLogger(string categoryName) => new Category(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The worker log writes its one file.");

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{Environment.TickCount64} {level} {category}: {message}{(exception is null ? string.Empty : " | " + exception.GetType().Name + ": " + exception.Message)}");
        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }

    private sealed class Category(WorkerLog log, string name) : ILogger
    {
        // The pipeline's warnings; the Redis stages' debug lines too (a failed subscribe or renewal, each hand-off);
        // the client's connection events.
        private readonly LogLevel _minimum = name switch
        {
            "DualLock.Redis" => LogLevel.Debug,
            _ when name.StartsWith("StackExchange", StringComparison.Ordinal) => LogLevel.Information,
            _ => LogLevel.Warning,
        };

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Write(name, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
