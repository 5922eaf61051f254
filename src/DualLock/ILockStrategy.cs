namespace DualLock;

/// <summary>
/// Runs work while holding a lock for a set of keys: what a consumer injects and calls. Registered by name
/// through <c>services.AddDualLock()</c> and its presets (<c>AddInProcessStrategy</c>,
/// <c>AddPessimisticStrategy</c>, <c>AddDistributedStrategy</c>, <c>AddDualStrategy</c> ...)
/// or composed with <c>AddPipeline</c>; resolve one with <c>[FromKeyedServices("charge")] ILockStrategy</c>,
/// or the default one unkeyed. <see cref="LockPipeline"/> is the implementation.
/// </summary>
/// <remarks>
/// The interface is one method, <see cref="ExecuteCoreAsync"/>; what callers write is the
/// <see cref="LockStrategyExtensions"/> over it (<c>ExecuteAsync</c> throws on a timeout, <c>TryExecuteAsync</c>
/// reports one; with or without a result, with or without a state, for one key or a <see cref="LockKeySet"/>).
/// </remarks>
public interface ILockStrategy
{
    /// <summary>Gets the strategy name (the DI key), used in exceptions, metrics and logs.</summary>
    string Name { get; }

    /// <summary>
    /// Runs <paramref name="work"/> holding the lock of every key of <paramref name="keys"/>: the one execution path
    /// every <see cref="LockStrategyExtensions"/> overload takes. Every stage acquires the keys in the set's canonical
    /// order (so overlapping sets cannot deadlock) and releases all of them on any failure; the wait covers the whole set.
    /// </summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <typeparam name="TState">What the work needs besides the context, passed so the call needs no closure.</typeparam>
    /// <param name="keys">The keys to lock: one <see cref="LockKey"/> converts to a set of one.</param>
    /// <param name="work">
    /// The work; it receives the context (<see cref="LockContext.Keys"/>, <see cref="LockContext.GetFencingToken"/>, the
    /// features stages provide), <paramref name="state"/>, and a token that fires on cancellation or lease loss.
    /// </param>
    /// <param name="state">Passed to <paramref name="work"/> as is.</param>
    /// <param name="waitTimeout">
    /// The longest to wait for the whole set; <see langword="null"/> uses the strategy's configured wait,
    /// <see cref="TimeSpan.Zero"/> tries once.
    /// </param>
    /// <param name="throwOnTimeout">
    /// <see langword="true"/>: a set not acquired in time throws <see cref="LockTimeoutException"/>.
    /// <see langword="false"/>: it returns an attempt whose <see cref="LockAttempt{TResult}.Acquired"/> is
    /// <see langword="false"/>, without creating an exception (a timeout a stage reported itself, a database lock-wait
    /// timeout, is reported the same way).
    /// </param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the set was acquired and the work ran, and what it returned; always acquired when <paramref name="throwOnTimeout"/> is set.</returns>
    /// <exception cref="ArgumentException"><paramref name="keys"/> is <see langword="default"/> (the empty set).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="waitTimeout"/> is negative or above <see cref="LockPipeline.MaxWaitTimeout"/>.</exception>
    /// <exception cref="LockTimeoutException">Only with <paramref name="throwOnTimeout"/>: some key was not acquired within the wait; none is left held.</exception>
    /// <exception cref="LockUnavailableException">A lock service could not be reached.</exception>
    /// <exception cref="LockLeaseLostException">A key's lock was lost while the work ran and the work stopped because of it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    ValueTask<LockAttempt<TResult>> ExecuteCoreAsync<TResult, TState>(
        LockKeySet keys,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        TimeSpan? waitTimeout,
        bool throwOnTimeout,
        CancellationToken cancellationToken);
}
