namespace DualLock;

/// <summary>
/// One layer of a <see cref="LockPipeline"/>: something that can be acquired for a key before the
/// work runs and released after it (a process-local lock, a Redis lock, a database transaction or
/// row lock ...).
/// </summary>
/// <remarks>
/// Stages are created once when a pipeline is built and shared by every execution, so they must be
/// thread-safe. Per-execution state belongs in the <see cref="LockStageHandle"/> a stage returns.
/// </remarks>
public abstract class LockStage
{
    /// <summary>Initializes a new instance of the <see cref="LockStage"/> class.</summary>
    /// <param name="name">The stage name used in exceptions, metrics and traces, for example <c>redis</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    protected LockStage(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the stage name used in exceptions, metrics and traces.</summary>
    public string Name { get; }

    /// <summary>Gets what the stage does, for the composition checks <see cref="LockPipelineBuilder.Build"/> makes.</summary>
    /// <value>
    /// Default: <see cref="LockStageTraits.None"/>. A custom stage that locks should return at least
    /// <see cref="LockStageTraits.Excludes"/>, or a pipeline that relies on it as the lock inside a
    /// fallback does not build.
    /// </value>
    protected internal virtual LockStageTraits Traits => LockStageTraits.None;

    /// <summary>Acquires this stage's lock for <see cref="LockContext.Key"/>.</summary>
    /// <param name="context">The execution context; outer stages have already acquired theirs.</param>
    /// <param name="waitTimeout">
    /// How long the stage may wait for another holder to release: what is left of the pipeline's wait.
    /// <see cref="TimeSpan.Zero"/> means try once without waiting.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// A handle that releases the lock, or <see langword="null"/> when the lock was still held by
    /// someone else when the wait ran out.
    /// </returns>
    /// <exception cref="LockUnavailableException">The lock service cannot be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public abstract ValueTask<LockStageHandle?> TryAcquireAsync(
        LockContext context,
        TimeSpan waitTimeout,
        CancellationToken cancellationToken);

    /// <summary>
    /// Acquires this stage's lock for every key of a multi-key execution, <see cref="LockContext.Keys"/>, which
    /// come distinct and in canonical order.
    /// </summary>
    /// <param name="context">The execution context; outer stages have already acquired all their keys.</param>
    /// <param name="waitTimeout">What is left of the pipeline's wait, for the whole set.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// One handle that releases every key, or <see langword="null"/> when a key was still held by someone else
    /// when the wait ran out; then no key of this stage is left held.
    /// </returns>
    /// <remarks>
    /// The default acquires the keys one after another in that order with <see cref="TryAcquireAsync"/>
    /// (<see cref="LockContext.Key"/> is each key in turn), shares the wait among them, and releases what it
    /// holds when a later key times out or fails. A stage that can lock the set in one step (one statement, one
    /// script) overrides this, acquiring in the same canonical order, and reports each key's token through
    /// <see cref="LockStageHandle.FencingTokens"/>. A stage that acquires once per execution whatever the keys
    /// (a transaction) overrides it too.
    /// </remarks>
    /// <exception cref="LockUnavailableException">The lock service cannot be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public virtual ValueTask<LockStageHandle?> TryAcquireAllAsync(
        LockContext context,
        TimeSpan waitTimeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return KeySetHandle.AcquireEachAsync(this, context, waitTimeout, cancellationToken);
    }

    /// <summary>The pipeline's call: the whole key set in a multi-key execution, else the one key.</summary>
    internal ValueTask<LockStageHandle?> AcquireForAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => context.IsMultiKey ? TryAcquireAllAsync(context, waitTimeout, cancellationToken) : TryAcquireAsync(context, waitTimeout, cancellationToken);
}
