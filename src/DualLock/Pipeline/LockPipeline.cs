using DualLock.Telemetry;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Runs work while holding every stage's lock for a key: stages are acquired outermost first and
/// released in reverse order, also when the work throws. Built once by <see cref="LockPipelineBuilder"/>,
/// immutable and thread-safe.
/// </summary>
public sealed partial class LockPipeline
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

    /// <summary>Runs <paramref name="work"/> under the lock; throws when the lock is not acquired within <see cref="WaitTimeout"/>.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work; it receives the context and a token that fires on cancellation or lease loss.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="LockTimeoutException">A stage could not acquire its lock within the wait timeout.</exception>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A lock was lost while the work ran and the work stopped because of it.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
        => ExecuteAsync(key, WaitTimeout, work, cancellationToken);

    /// <summary>Runs <paramref name="work"/> under the lock with a per-call wait timeout.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="waitTimeout">The longest to wait for all stages; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="LockTimeoutException">A stage could not acquire its lock within <paramref name="waitTimeout"/>.</exception>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A lock was lost while the work ran and the work stopped because of it.</exception>
    public async ValueTask<TResult> ExecuteAsync<TResult>(
        LockKey key,
        TimeSpan waitTimeout,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(key, waitTimeout, Invoke, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
        return attempt.Result!;
    }

    /// <summary>Runs <paramref name="work"/> under the lock; throws when the lock is not acquired within <see cref="WaitTimeout"/>.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="LockTimeoutException">A stage could not acquire its lock within the wait timeout.</exception>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public ValueTask ExecuteAsync(LockKey key, Func<LockContext, CancellationToken, ValueTask> work, CancellationToken cancellationToken = default)
        => ExecuteAsync(key, WaitTimeout, work, cancellationToken);

    /// <summary>Runs <paramref name="work"/> under the lock with a per-call wait timeout.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="waitTimeout">The longest to wait for all stages; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="LockTimeoutException">A stage could not acquire its lock within <paramref name="waitTimeout"/>.</exception>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public async ValueTask ExecuteAsync(
        LockKey key,
        TimeSpan waitTimeout,
        Func<LockContext, CancellationToken, ValueTask> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        await RunAsync(key, waitTimeout, InvokeVoid, work, throwOnTimeout: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> if the lock is acquired within <see cref="WaitTimeout"/>; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the lock was acquired, and the work's result when it was.</returns>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
        => TryExecuteAsync(key, WaitTimeout, work, cancellationToken);

    /// <summary>Runs <paramref name="work"/> if the lock is acquired within <paramref name="waitTimeout"/>; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="waitTimeout">The longest to wait for all stages; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the lock was acquired, and the work's result when it was.</returns>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        LockKey key,
        TimeSpan waitTimeout,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(key, waitTimeout, Invoke, work, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> if the lock is acquired within <see cref="WaitTimeout"/>.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the lock was acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public ValueTask<bool> TryExecuteAsync(LockKey key, Func<LockContext, CancellationToken, ValueTask> work, CancellationToken cancellationToken = default)
        => TryExecuteAsync(key, WaitTimeout, work, cancellationToken);

    /// <summary>Runs <paramref name="work"/> if the lock is acquired within <paramref name="waitTimeout"/>.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="waitTimeout">The longest to wait for all stages; <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the lock was acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    /// <exception cref="LockUnavailableException">A stage's lock service could not be reached.</exception>
    public async ValueTask<bool> TryExecuteAsync(
        LockKey key,
        TimeSpan waitTimeout,
        Func<LockContext, CancellationToken, ValueTask> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var attempt = await RunAsync(key, waitTimeout, InvokeVoid, work, throwOnTimeout: false, cancellationToken).ConfigureAwait(false);
        return attempt.Acquired;
    }

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
