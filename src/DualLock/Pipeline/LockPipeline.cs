using DualLock.Telemetry;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Runs work while holding every stage's lock for a key: stages are acquired outermost first and
/// released in reverse order, also when the work throws. Built once by <see cref="LockPipelineBuilder"/>,
/// immutable and thread-safe.
/// </summary>
public sealed partial class LockPipeline : ILockStrategy
{
    private readonly LockStage[] _stages;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly LogThrottle _unavailableLogThrottle;

    internal LockPipeline(string name, LockStage[] stages, TimeSpan waitTimeout, TimeProvider timeProvider, ILogger logger)
    {
        Name = name;
        _stages = stages;
        WaitTimeout = waitTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _unavailableLogThrottle = new LogThrottle(timeProvider, LogThrottle.DefaultInterval);
        StageNames = Array.AsReadOnly(Array.ConvertAll(stages, s => s.Name));
    }

    /// <summary>Gets the pipeline name (the DI key when registered through <c>AddDualLock</c>).</summary>
    public string Name { get; }

    /// <summary>Gets the default wait timeout: the longest an execution waits to acquire all stages.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets the stage names, outermost first.</summary>
    public IReadOnlyList<string> StageNames { get; }

    /// <inheritdoc />
    public async ValueTask<TResult> ExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(key, null, waitTimeout ?? WaitTimeout, Invoke, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
        return attempt.Result!;
    }

    /// <inheritdoc />
    public async ValueTask ExecuteAsync(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await RunAsync(key, null, waitTimeout ?? WaitTimeout, InvokeVoid, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(key, null, waitTimeout ?? WaitTimeout, Invoke, work, throwOnTimeout: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryExecuteAsync(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(key, null, waitTimeout ?? WaitTimeout, InvokeVoid, work, throwOnTimeout: false, cancellationToken).ConfigureAwait(false);
        return attempt.Acquired;
    }

    /// <inheritdoc />
    public async ValueTask<TResult> ExecuteAsync<TResult>(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var set = new LockKeySet(keys);
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(set.First, Many(set), waitTimeout ?? WaitTimeout, Invoke, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
        return attempt.Result!;
    }

    /// <inheritdoc />
    public async ValueTask ExecuteAsync(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var set = new LockKeySet(keys);
        ArgumentNullException.ThrowIfNull(work);
        await RunAsync(set.First, Many(set), waitTimeout ?? WaitTimeout, InvokeVoid, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var set = new LockKeySet(keys);
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(set.First, Many(set), waitTimeout ?? WaitTimeout, Invoke, work, throwOnTimeout: false, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryExecuteAsync(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var set = new LockKeySet(keys);
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(set.First, Many(set), waitTimeout ?? WaitTimeout, InvokeVoid, work, throwOnTimeout: false, cancellationToken).ConfigureAwait(false);
        return attempt.Acquired;
    }

    /// <summary>A set that is one key after removing duplicates runs as the single-key execution it is.</summary>
    private static LockKey[]? Many(LockKeySet set) => set.Count > 1 ? [.. set] : null;

    private static ValueTask<TResult> Invoke<TResult>(LockContext context, Func<LockContext, CancellationToken, ValueTask<TResult>> work, CancellationToken token)
        => work(context, token);

    private static ValueTask<bool> InvokeVoid(LockContext context, Func<LockContext, CancellationToken, ValueTask> work, CancellationToken token)
    {
        var task = work(context, token);

        // The common case, work that completed synchronously, costs no state machine.
        return task.IsCompletedSuccessfully ? new ValueTask<bool>(true) : AwaitAsync(task);

        static async ValueTask<bool> AwaitAsync(ValueTask pending)
        {
            await pending.ConfigureAwait(false);
            return true;
        }
    }
}
