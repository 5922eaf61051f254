using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DualLock;

/// <summary>
/// A reader-writer lock built as two <see cref="LockPipeline"/>s (read and write) whose stages share one
/// lock state per key, so the pipeline's guarantees carry over: bounded waits, cancellation, release on
/// throw, <see cref="LockLeaseLostException"/> when a lease is lost, metrics and traces.
/// </summary>
/// <example>
/// <code>
/// var prices = ReaderWriterLockStrategy.CreateInProcess(new ReaderWriterLockOptions { Name = "prices" });
/// var price = await prices.ExecuteReadAsync(key, (ctx, ct) => ReadPriceAsync(ct));
/// await prices.ExecuteWriteAsync(key, (ctx, ct) => UpdatePriceAsync(ctx.FencingToken, ct));
/// </code>
/// </example>
public sealed class ReaderWriterLockStrategy : IReaderWriterLockStrategy
{
    private readonly LockPipeline _read;
    private readonly LockPipeline _write;

    private ReaderWriterLockStrategy(string name, LockPipeline read, LockPipeline write)
    {
        Name = name;
        _read = read;
        _write = write;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public TimeSpan WaitTimeout => _read.WaitTimeout;

    /// <summary>Gets the number of keys held or waited for in this process, when the lock knows it (for tests).</summary>
    internal Func<int>? ActiveKeyCount { get; private set; }

    /// <summary>Creates a reader-writer lock per key inside this process (fair, first come first served).</summary>
    /// <param name="options">The options, copied and validated here. Default: <see cref="ReaderWriterLockOptions"/> defaults.</param>
    /// <param name="timeProvider">The time source of the waits. Default: <see cref="TimeProvider.System"/>.</param>
    /// <returns>The lock; share one per lock domain.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static ReaderWriterLockStrategy CreateInProcess(ReaderWriterLockOptions? options = null, TimeProvider? timeProvider = null)
    {
        var validated = CopyOf(options ?? new ReaderWriterLockOptions());
        var gates = FairGate.Registry(int.MaxValue);
        var strategy = Compose(
            validated,
            context => new InProcessGateStage(validated.Name, gates, exclusive: false, validated.MaxQueueLength, context.TimeProvider),
            context => new InProcessGateStage(validated.Name, gates, exclusive: true, validated.MaxQueueLength, context.TimeProvider),
            timeProvider,
            loggerFactory: null);
        strategy.ActiveKeyCount = () => gates.Count;
        return strategy;
    }

    /// <inheritdoc />
    public ValueTask<TResult> ExecuteReadAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default)
        => _read.ExecuteAsync(key, work, waitTimeout, cancellationToken);

    /// <inheritdoc />
    public ValueTask<TResult> ExecuteWriteAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default)
        => _write.ExecuteAsync(key, work, waitTimeout, cancellationToken);

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> TryExecuteReadAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default)
        => _read.TryExecuteAsync(key, work, waitTimeout, cancellationToken);

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> TryExecuteWriteAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default)
        => _write.TryExecuteAsync(key, work, waitTimeout, cancellationToken);

    /// <summary>
    /// Creates a reader-writer lock from a read stage and a write stage that share one lock state per key
    /// (how a distributed backend, such as the Redis one, plugs in).
    /// </summary>
    /// <param name="options">The options (name and wait), validated here.</param>
    /// <param name="readStage">Creates the stage a reader acquires.</param>
    /// <param name="writeStage">Creates the stage a writer acquires; it must exclude readers and writers of the same key.</param>
    /// <param name="timeProvider">The time source. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <returns>The reader-writer lock.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static ReaderWriterLockStrategy Create(
        ReaderWriterLockOptions options,
        Func<LockStageBuildContext, LockStage> readStage,
        Func<LockStageBuildContext, LockStage> writeStage,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(readStage);
        ArgumentNullException.ThrowIfNull(writeStage);
        return Compose(CopyOf(options), readStage, writeStage, timeProvider, loggerFactory);
    }

    /// <summary>A copy of <paramref name="options"/>, validated once.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    internal static ReaderWriterLockOptions CopyOf(ReaderWriterLockOptions options)
    {
        var copy = options.Copy();
        OptionChecks.ThrowIfAny(copy.Validate, $"Reader-writer lock '{copy.Name}'");
        return copy;
    }

    /// <summary>Builds the two pipelines from options already copied and validated (<see cref="CopyOf"/>).</summary>
    internal static ReaderWriterLockStrategy Compose(
        ReaderWriterLockOptions validated,
        Func<LockStageBuildContext, LockStage> readStage,
        Func<LockStageBuildContext, LockStage> writeStage,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory)
    {
        LockPipeline Build(string side, Func<LockStageBuildContext, LockStage> stage) => new LockPipelineBuilder
        {
            Name = $"{validated.Name}.{side}",
            WaitTimeout = validated.WaitTimeout,
            TimeProvider = timeProvider ?? TimeProvider.System,
            LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance,
        }.AddStage(stage).Build();

        return new ReaderWriterLockStrategy(validated.Name, Build("read", readStage), Build("write", writeStage));
    }
}
