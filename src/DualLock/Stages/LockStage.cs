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

    /// <summary>
    /// Acquires this stage's lock for every key of <see cref="LockContext.Keys"/>, which come distinct and in canonical
    /// order; a single-key execution is a set of one.
    /// </summary>
    /// <param name="context">The execution context; outer stages have already acquired all their keys.</param>
    /// <param name="waitTimeout">
    /// How long the stage may wait for other holders to release, for the whole set: what is left of the pipeline's
    /// wait. <see cref="TimeSpan.Zero"/> means try once without waiting.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// One handle that releases every key, or <see langword="null"/> when a key was still held by someone else when
    /// the wait ran out; then no key of this stage is left held.
    /// </returns>
    /// <remarks>
    /// A stage that locks key by key implements this with <see cref="AcquireEachKeyAsync"/>. A stage that can lock the
    /// set in one step (one statement, one script) acquires in the same canonical order and reports each key's token
    /// through <see cref="LockStageHandle.FencingTokens"/>; a stage that acquires once per execution whatever the keys
    /// (a transaction) ignores them.
    /// </remarks>
    /// <exception cref="LockUnavailableException">The lock service cannot be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    public abstract ValueTask<LockStageHandle?> TryAcquireAsync(
        LockContext context,
        TimeSpan waitTimeout,
        CancellationToken cancellationToken);

    /// <summary>
    /// Acquires the keys of <see cref="LockContext.Keys"/> one after another in their canonical order with
    /// <paramref name="acquireKey"/>, sharing the wait among them, and releases what it holds when a later key times out
    /// or fails. A set of one is <paramref name="acquireKey"/>'s own handle, with nothing added.
    /// </summary>
    /// <param name="context">The execution context.</param>
    /// <param name="waitTimeout">What is left of the pipeline's wait, for the whole set.</param>
    /// <param name="acquireKey">Acquires one key: the context, the key, what is left of the wait, the token; <see langword="null"/> on a timeout.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>One handle over every key's handle (its <see cref="LockStageHandle.FencingTokens"/> are theirs), or <see langword="null"/> on a timeout.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="acquireKey"/> is <see langword="null"/>.</exception>
    protected ValueTask<LockStageHandle?> AcquireEachKeyAsync(
        LockContext context,
        TimeSpan waitTimeout,
        Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>> acquireKey,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(acquireKey);
        return context.Keys.Count == 1
            ? acquireKey(context, context.Keys.First, waitTimeout, cancellationToken)
            : KeySetHandle.AcquireEachAsync(this, context, waitTimeout, acquireKey, cancellationToken);
    }
}
