using DualLock.Tests.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DualLock.Tests.Telemetry;

public sealed class LoggingTests
{
    [Fact]
    public async Task ExecuteAsync_KeyIdAppearsOnlyInDebugRecords()
    {
        var collector = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(collector)));
        var pipeline = new LockPipelineBuilder { LoggerFactory = loggerFactory, WaitTimeout = TimeSpan.FromMilliseconds(20) }.AddInProcessLock().Build();
        var key = new LockKey("account", "secret-customer-42");

        await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask);
        var holder = await HeldLock.TakeAsync(pipeline, key, TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<LockTimeoutException>(async () => await pipeline.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask));
        await holder.ReleaseAsync();

        var records = collector.GetSnapshot();
        Assert.Contains(records, r => r.Level == LogLevel.Debug && r.Message.Contains("secret-customer-42", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Level == LogLevel.Warning && r.Message.Contains("'account'", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Level > LogLevel.Debug && r.Message.Contains("secret-customer-42", StringComparison.Ordinal));
    }
}
