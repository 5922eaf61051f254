namespace DualLock;

/// <summary>
/// A reader-writer lock per key: readers share it, a writer holds it alone, and a waiting writer
/// blocks readers that arrive after it so writers do not starve. Waits are bounded and cancellable;
/// a distributed implementation renews its leases and cancels the work's token when one is lost.
/// </summary>
public interface IReaderWriterLockStrategy
{
    /// <summary>Gets the reader-writer lock's name (its pipelines are <c>{Name}.read</c> and <c>{Name}.write</c>).</summary>
    string Name { get; }

    /// <summary>Gets the default wait timeout of both sides.</summary>
    TimeSpan WaitTimeout { get; }

    /// <summary>Runs <paramref name="work"/> as a reader; throws <see cref="LockTimeoutException"/> when not admitted within <paramref name="waitTimeout"/>.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work; its token fires on cancellation or when the lease is lost.</param>
    /// <param name="waitTimeout">The longest to wait; <see langword="null"/> for <see cref="WaitTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    ValueTask<TResult> ExecuteReadAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> as the only writer; throws <see cref="LockTimeoutException"/> when not admitted within <paramref name="waitTimeout"/>.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work; <see cref="LockContext.FencingToken"/> carries the writer's token when the implementation issues one.</param>
    /// <param name="waitTimeout">The longest to wait; <see langword="null"/> for <see cref="WaitTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    ValueTask<TResult> ExecuteWriteAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> as a reader if admitted within the wait; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait; <see langword="null"/> for <see cref="WaitTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the lock was acquired, and the work's result when it was.</returns>
    ValueTask<LockAttempt<TResult>> TryExecuteReadAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> as the only writer if admitted within the wait; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait; <see langword="null"/> for <see cref="WaitTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the lock was acquired, and the work's result when it was.</returns>
    ValueTask<LockAttempt<TResult>> TryExecuteWriteAsync<TResult>(LockKey key, Func<LockContext, CancellationToken, ValueTask<TResult>> work, TimeSpan? waitTimeout = null, CancellationToken cancellationToken = default);
}
