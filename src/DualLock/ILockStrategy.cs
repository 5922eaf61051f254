namespace DualLock;

/// <summary>
/// Runs work while holding a lock for a key: what a consumer injects and calls. Registered by name
/// through <c>services.AddDualLock()</c> and its presets (<c>AddInProcessStrategy</c>,
/// <c>AddPessimisticStrategy</c>, <c>AddDistributedStrategy</c>, <c>AddDualStrategy</c> ...) or
/// composed with <c>AddPipeline</c>; resolve one with <c>[FromKeyedServices("charge")] ILockStrategy</c>,
/// or the default one unkeyed. <see cref="LockPipeline"/> is the implementation.
/// </summary>
public interface ILockStrategy
{
    /// <summary>Gets the strategy name (the DI key), used in exceptions, metrics and logs.</summary>
    string Name { get; }

    /// <summary>Runs <paramref name="work"/> under the lock; throws when the lock is not acquired in time.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work; it receives the context and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for the lock; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="LockTimeoutException">The lock was not acquired within the wait timeout.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A lock was lost while the work ran and the work stopped because of it.</exception>
    ValueTask<TResult> ExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> under the lock; throws when the lock is not acquired in time.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work; it receives the context and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for the lock; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="LockTimeoutException">The lock was not acquired within the wait timeout.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A lock was lost while the work ran and the work stopped because of it.</exception>
    ValueTask ExecuteAsync(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> if the lock is acquired in time; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for the lock; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the lock was acquired, and the work's result when it was.</returns>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> if the lock is acquired in time.</summary>
    /// <param name="key">The key to lock.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for the lock; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the lock was acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    ValueTask<bool> TryExecuteAsync(
        LockKey key,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="work"/> holding the lock of every key; throws when the set is not acquired in time.
    /// Every stage acquires the keys in one canonical order (so overlapping sets cannot deadlock) and releases all
    /// of them on any failure; the wait covers the whole set.
    /// </summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="keys">The keys to lock, at most 64 distinct ones; duplicates are locked once, order does not matter.</param>
    /// <param name="work">The work; <see cref="LockContext.Keys"/> lists the keys and <see cref="LockContext.GetFencingToken"/> gives each key's token.</param>
    /// <param name="waitTimeout">The longest to wait for the whole set; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="ArgumentException">No key, a default key, or more than 64 distinct keys.</exception>
    /// <exception cref="LockTimeoutException">Some key was not acquired within the wait timeout; none is left held.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A key's lock was lost while the work ran and the work stopped because of it.</exception>
    ValueTask<TResult> ExecuteAsync<TResult>(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> holding the lock of every key; throws when the set is not acquired in time.</summary>
    /// <param name="keys">The keys to lock, at most 64 distinct ones; duplicates are locked once, order does not matter.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for the whole set; <see langword="null"/> uses the strategy's configured wait.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="ArgumentException">No key, a default key, or more than 64 distinct keys.</exception>
    /// <exception cref="LockTimeoutException">Some key was not acquired within the wait timeout; none is left held.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A key's lock was lost while the work ran and the work stopped because of it.</exception>
    ValueTask ExecuteAsync(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> if the lock of every key is acquired in time; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="keys">The keys to lock, at most 64 distinct ones.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for the whole set; <see langword="null"/> uses the strategy's configured wait.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the set was acquired, and the work's result when it was.</returns>
    /// <exception cref="ArgumentException">No key, a default key, or more than 64 distinct keys.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="work"/> if the lock of every key is acquired in time.</summary>
    /// <param name="keys">The keys to lock, at most 64 distinct ones.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for the whole set; <see langword="null"/> uses the strategy's configured wait.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the set was acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    /// <exception cref="ArgumentException">No key, a default key, or more than 64 distinct keys.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    ValueTask<bool> TryExecuteAsync(
        IReadOnlyList<LockKey> keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default);
}
