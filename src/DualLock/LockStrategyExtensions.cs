namespace DualLock;

/// <summary>
/// The calls of an <see cref="ILockStrategy"/>, each routed through <see cref="ILockStrategy.ExecuteCoreAsync"/>:
/// <c>ExecuteAsync</c> throws <see cref="LockTimeoutException"/> when the keys are not acquired in time,
/// <c>TryExecuteAsync</c> reports it without creating an exception. Each takes one key (it converts to a
/// <see cref="LockKeySet"/> of one) or several (<c>[from, to]</c>), and comes with a state-passing form that needs no closure.
/// </summary>
/// <remarks>
/// Every overload may throw <see cref="ArgumentNullException"/> (<c>strategy</c> or <c>work</c> is <see langword="null"/>),
/// <see cref="ArgumentException"/> (an empty or <see langword="default"/> key set),
/// <see cref="ArgumentOutOfRangeException"/> (a wait outside 0 to <see cref="LockPipeline.MaxWaitTimeout"/>),
/// <see cref="LockUnavailableException"/> (a lock service could not be reached), <see cref="LockLeaseLostException"/>
/// (a lock was lost while the work ran and the work stopped because of it) and <see cref="OperationCanceledException"/>.
/// </remarks>
public static class LockStrategyExtensions
{
    /// <summary>Runs <paramref name="work"/> holding the lock of every key; throws when they are not acquired in time.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones; duplicates are locked once, order does not matter).</param>
    /// <param name="work">The work; it receives the context and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="LockTimeoutException">A key was not acquired within the wait timeout; none is left held.</exception>
    public static ValueTask<TResult> ExecuteAsync<TResult>(
        this ILockStrategy strategy,
        LockKeySet keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return ResultOf(strategy, strategy.ExecuteCoreAsync(keys, Invokers<TResult>.Plain, work, waitTimeout, throwOnTimeout: true, cancellationToken));
    }

    /// <summary>Runs <paramref name="work"/> holding the lock of every key; throws when they are not acquired in time.</summary>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="work">The work; it receives the context and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="LockTimeoutException">A key was not acquired within the wait timeout; none is left held.</exception>
    public static ValueTask ExecuteAsync(
        this ILockStrategy strategy,
        LockKeySet keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return Completion(strategy, strategy.ExecuteCoreAsync(keys, VoidInvokers.Plain, work, waitTimeout, throwOnTimeout: true, cancellationToken));
    }

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> holding the lock of every key; throws when they are not acquired in time.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <typeparam name="TState">What the work needs besides the context.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="state">Passed to <paramref name="work"/>; lets a <see langword="static"/> lambda do the work without a closure per call.</param>
    /// <param name="work">The work; it receives the context, the state and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>What the work returned.</returns>
    /// <exception cref="LockTimeoutException">A key was not acquired within the wait timeout; none is left held.</exception>
    public static ValueTask<TResult> ExecuteAsync<TResult, TState>(
        this ILockStrategy strategy,
        LockKeySet keys,
        TState state,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return ResultOf(strategy, strategy.ExecuteCoreAsync(keys, work, state, waitTimeout, throwOnTimeout: true, cancellationToken));
    }

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> holding the lock of every key; throws when they are not acquired in time.</summary>
    /// <typeparam name="TState">What the work needs besides the context.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="state">Passed to <paramref name="work"/>.</param>
    /// <param name="work">The work; it receives the context, the state and a token that fires on cancellation or lease loss.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>A task that completes when the work is done and every lock released.</returns>
    /// <exception cref="LockTimeoutException">A key was not acquired within the wait timeout; none is left held.</exception>
    public static ValueTask ExecuteAsync<TState>(
        this ILockStrategy strategy,
        LockKeySet keys,
        TState state,
        Func<LockContext, TState, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return Completion(strategy, strategy.ExecuteCoreAsync(keys, VoidInvokers<TState>.WithState, (work, state), waitTimeout, throwOnTimeout: true, cancellationToken));
    }

    /// <summary>Runs <paramref name="work"/> if the lock of every key is acquired in time; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the keys were acquired, and the work's result when they were.</returns>
    public static ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult>(
        this ILockStrategy strategy,
        LockKeySet keys,
        Func<LockContext, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return strategy.ExecuteCoreAsync(keys, Invokers<TResult>.Plain, work, waitTimeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> if the lock of every key is acquired in time; reports a timeout instead of throwing.</summary>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the keys were acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    public static ValueTask<bool> TryExecuteAsync(
        this ILockStrategy strategy,
        LockKeySet keys,
        Func<LockContext, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return Acquired(strategy.ExecuteCoreAsync(keys, VoidInvokers.Plain, work, waitTimeout, throwOnTimeout: false, cancellationToken));
    }

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> if the lock of every key is acquired in time; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <typeparam name="TState">What the work needs besides the context.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="state">Passed to <paramref name="work"/>.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns>Whether the keys were acquired, and the work's result when they were.</returns>
    public static ValueTask<LockAttempt<TResult>> TryExecuteAsync<TResult, TState>(
        this ILockStrategy strategy,
        LockKeySet keys,
        TState state,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return strategy.ExecuteCoreAsync(keys, work, state, waitTimeout, throwOnTimeout: false, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> if the lock of every key is acquired in time; reports a timeout instead of throwing.</summary>
    /// <typeparam name="TState">What the work needs besides the context.</typeparam>
    /// <param name="strategy">The strategy.</param>
    /// <param name="keys">The key, or keys (at most 64 distinct ones).</param>
    /// <param name="state">Passed to <paramref name="work"/>.</param>
    /// <param name="work">The work.</param>
    /// <param name="waitTimeout">The longest to wait for every key; <see langword="null"/> uses the strategy's configured wait, <see cref="TimeSpan.Zero"/> tries once.</param>
    /// <param name="cancellationToken">Cancels the wait and the work.</param>
    /// <returns><see langword="true"/> when the keys were acquired and the work ran; <see langword="false"/> on a timeout.</returns>
    public static ValueTask<bool> TryExecuteAsync<TState>(
        this ILockStrategy strategy,
        LockKeySet keys,
        TState state,
        Func<LockContext, TState, CancellationToken, ValueTask> work,
        TimeSpan? waitTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(work);
        return Acquired(strategy.ExecuteCoreAsync(keys, VoidInvokers<TState>.WithState, (work, state), waitTimeout, throwOnTimeout: false, cancellationToken));
    }

    // The common case, a call that completed synchronously, costs no state machine.
    private static ValueTask<TResult> ResultOf<TResult>(ILockStrategy strategy, ValueTask<LockAttempt<TResult>> pending)
    {
        return pending.IsCompletedSuccessfully ? new ValueTask<TResult>(Unwrap(strategy, pending.Result)) : AwaitAsync(strategy, pending);

        static async ValueTask<TResult> AwaitAsync(ILockStrategy strategy, ValueTask<LockAttempt<TResult>> pending)
            => Unwrap(strategy, await pending.ConfigureAwait(false));
    }

    private static ValueTask Completion(ILockStrategy strategy, ValueTask<LockAttempt<bool>> pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            Unwrap(strategy, pending.Result);
            return ValueTask.CompletedTask;
        }

        return AwaitAsync(strategy, pending);

        static async ValueTask AwaitAsync(ILockStrategy strategy, ValueTask<LockAttempt<bool>> pending)
            => Unwrap(strategy, await pending.ConfigureAwait(false));
    }

    private static ValueTask<bool> Acquired(ValueTask<LockAttempt<bool>> pending)
    {
        return pending.IsCompletedSuccessfully ? new ValueTask<bool>(pending.Result.Acquired) : AwaitAsync(pending);

        static async ValueTask<bool> AwaitAsync(ValueTask<LockAttempt<bool>> pending) => (await pending.ConfigureAwait(false)).Acquired;
    }

    /// <summary>A strategy asked to throw on a timeout that reports one instead breaks its contract: say so rather than return a default.</summary>
    private static TResult Unwrap<TResult>(ILockStrategy strategy, LockAttempt<TResult> attempt)
        => attempt.Acquired
            ? attempt.Result!
            : throw new InvalidOperationException($"Lock strategy '{strategy.Name}' reported a timeout although it was asked to throw one (ExecuteCoreAsync with throwOnTimeout: true).");

    private static class Invokers<TResult>
    {
        public static readonly Func<LockContext, Func<LockContext, CancellationToken, ValueTask<TResult>>, CancellationToken, ValueTask<TResult>> Plain
            = static (context, work, token) => work(context, token);
    }

    private static class VoidInvokers
    {
        public static readonly Func<LockContext, Func<LockContext, CancellationToken, ValueTask>, CancellationToken, ValueTask<bool>> Plain
            = static (context, work, token) => Done(work(context, token));

        /// <summary>Work without a result reports <see langword="true"/>; work that completed synchronously costs no state machine.</summary>
        public static ValueTask<bool> Done(ValueTask task)
        {
            return task.IsCompletedSuccessfully ? new ValueTask<bool>(true) : AwaitAsync(task);

            static async ValueTask<bool> AwaitAsync(ValueTask pending)
            {
                await pending.ConfigureAwait(false);
                return true;
            }
        }
    }

    private static class VoidInvokers<TState>
    {
        public static readonly Func<LockContext, (Func<LockContext, TState, CancellationToken, ValueTask> Work, TState State), CancellationToken, ValueTask<bool>> WithState
            = static (context, call, token) => VoidInvokers.Done(call.Work(context, call.State, token));
    }
}
