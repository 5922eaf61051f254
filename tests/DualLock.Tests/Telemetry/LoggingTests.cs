using DualLock.Tests.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

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

    [Fact]
    public async Task Outage_RepeatedFailures_LoggedOncePerSecondWithTheCountOfTheRest()
    {
        // During an outage every execution fails the same way; a stack trace per request costs more than the failure.
        var collector = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new FakeLoggerProvider(collector)));
        var time = new FakeTimeProvider();
        var unavailable = new LockUnavailableException("account", "redis", TimeSpan.Zero, new IOException("connection refused"));
        var fallback = new LockPipelineBuilder { Name = "dual", LoggerFactory = loggerFactory, TimeProvider = time }
            .AddStage(new RecordingStage("redis", []) { AcquireFailure = unavailable })
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("row", []) { DeclaredTraits = LockStageTraits.Excludes })
            .Build();
        var failing = new LockPipelineBuilder { Name = "distributed", LoggerFactory = loggerFactory, TimeProvider = time }
            .AddStage(new RecordingStage("redis", []) { AcquireFailure = unavailable })
            .Build();
        var key = new LockKey("account", "1");

        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 100; i++)
            {
                await fallback.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask);
                await Assert.ThrowsAsync<LockUnavailableException>(async () => await failing.ExecuteAsync(key, (_, _) => ValueTask.CompletedTask));
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        var records = collector.GetSnapshot();
        var fallbacks = records.Where(r => r.Id.Id == 1006).ToList();
        var failures = records.Where(r => r.Id.Id == 1002).ToList();
        Assert.Equal(2, fallbacks.Count);
        Assert.Equal(2, failures.Count);
        Assert.Contains("(0 more", fallbacks[0].Message, StringComparison.Ordinal);
        Assert.Contains("(99 more", fallbacks[1].Message, StringComparison.Ordinal);
        Assert.Contains("(99 more", failures[1].Message, StringComparison.Ordinal);
        Assert.Same(unavailable, failures[0].Exception);
    }
}
