using DualLock.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DualLock;

/// <summary>
/// Builds a <see cref="LockPipeline"/>. Stages run in the order they are added: the first added is
/// the outermost (acquired first, released last). Stage options are copied when the stage is
/// added and validated then, once; the pipeline is immutable once built.
/// </summary>
/// <example>
/// Dual locking: a Redis lock outside, a transaction with a row lock inside.
/// <code>
/// var pipeline = new LockPipelineBuilder { Name = "charge" }
///     .AddRedisLock(redis)
///     .AddMySqlTransaction(connectionString)
///     .AddMySqlRowLock(rowLockOptions)
///     .Build();
/// </code>
/// </example>
public sealed class LockPipelineBuilder
{
    private readonly List<Func<LockStageBuildContext, LockStage>> _factories = [];
    private bool _built;

    /// <summary>Gets or sets the pipeline name used in exceptions, metrics, logs and as the DI key.</summary>
    /// <value>Default: <c>default</c>.</value>
    public string Name { get; set; } = "default";

    /// <summary>Gets or sets how long an execution may wait, in total, to acquire every stage.</summary>
    /// <value>Default: 2 seconds. Between zero (try once) and <see cref="LockPipeline.MaxWaitTimeout"/>.</value>
    public TimeSpan WaitTimeout { get; set; } = LockPipelineOptions.DefaultWaitTimeout;

    /// <summary>Gets or sets the time source used for waits, leases and measurements.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory passed to the stages.</summary>
    /// <value>Default: <see cref="NullLoggerFactory.Instance"/>.</value>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Gets or sets whether <see cref="Build"/> refuses a transaction stage inside a fencing-token issuer
    /// (a Redis lock) that does not enforce the token. Without a row lock or the fence, a holder paused past
    /// its lease commits over its successor. The distributed preset sets it.
    /// </summary>
    /// <value>Default: <see langword="false"/> (a custom pipeline may fence some other way, or deliberately not).</value>
    public bool RequireFencedTransactions { get; set; }

    /// <summary>
    /// Gets or sets how the pipeline re-runs the work after a lost compare-and-set: the optimistic strategy. Each
    /// attempt acquires every stage again, and the work sees <see cref="LockContext.Attempt"/> and
    /// <see cref="LockContext.RerunsOnConflict"/>. Each attempt's stages get what is left of the wait timeout; the attempts
    /// themselves are bounded by <see cref="ConflictRetryOptions.MaxAttempts"/>.
    /// </summary>
    /// <value>Default: <see langword="null"/>: the work runs once, and an <see cref="OptimisticConflictException"/> reaches the caller.</value>
    public ConflictRetryOptions? ConflictRetry { get; set; }

    /// <summary>Gets the number of stages added so far.</summary>
    internal int StageCount => _factories.Count;

    /// <summary>Adds a stage instance inside the stages added before it.</summary>
    /// <param name="stage">The stage; it must be thread-safe.</param>
    /// <returns>This builder.</returns>
    public LockPipelineBuilder AddStage(LockStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return AddStage(_ => stage);
    }

    /// <summary>Adds a stage created when the pipeline is built, inside the stages added before it.</summary>
    /// <param name="factory">Creates the stage from the pipeline's time source, logger factory and name.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">The builder has already built its pipeline.</exception>
    public LockPipelineBuilder AddStage(Func<LockStageBuildContext, LockStage> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (_built)
        {
            throw new InvalidOperationException("Stages cannot be added after the pipeline has been built: a pipeline is immutable.");
        }

        _factories.Add(factory);
        return this;
    }

    /// <summary>
    /// Adds a stage described by its options, inside the stages added before it: the way every
    /// built-in stage is added. The options are copied and validated now, once;
    /// <paramref name="factory"/> creates the stage from that copy when the pipeline is built.
    /// </summary>
    /// <typeparam name="TOptions">The stage's options type.</typeparam>
    /// <param name="options">The options; later changes to this instance do not reach the stage.</param>
    /// <param name="factory">Creates the stage from the build context (time, logging, meter) and the validated options.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">
    /// The options are invalid (<see cref="LockStageOptions.Validate()"/>): the message names the pipeline and
    /// the stage and lists every problem.
    /// </exception>
    /// <exception cref="InvalidOperationException">The builder has already built its pipeline.</exception>
    public LockPipelineBuilder AddStage<TOptions>(TOptions options, Func<LockStageBuildContext, TOptions, LockStage> factory)
        where TOptions : LockStageOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        return AddOwnedStage((TOptions)options.Copy(), factory);
    }

    /// <summary>
    /// Adds a stage from options that the caller has just copied and no one else holds (so they are not
    /// copied again): validated now, once, like <see cref="AddStage{TOptions}"/>.
    /// </summary>
    internal LockPipelineBuilder AddOwnedStage<TOptions>(TOptions owned, Func<LockStageBuildContext, TOptions, LockStage> factory)
        where TOptions : LockStageOptions
    {
        ArgumentNullException.ThrowIfNull(owned);
        ArgumentNullException.ThrowIfNull(factory);
        OptionChecks.ThrowIfAny(owned.Validate(), $"Pipeline '{Name}', stage '{owned.Name}'");
        return AddStage(context => factory(context, owned));
    }

    /// <summary>
    /// Makes the stage added last optional: when its lock service is unavailable the execution
    /// continues with the other stages (counted as <c>duallock.fallback</c>, logged, and listed in
    /// the <see cref="SkippedStages"/> feature) instead of throwing <see cref="LockUnavailableException"/>.
    /// </summary>
    /// <returns>This builder.</returns>
    /// <remarks>
    /// Use it only on a stage that has a correct lock inside it, typically a Redis lock outside a
    /// database row lock. A timeout is never turned into a fallback: someone holds the lock.
    /// </remarks>
    /// <exception cref="InvalidOperationException">No stage was added yet, or the pipeline was built.</exception>
    public LockPipelineBuilder ContinueIfUnavailable()
    {
        if (_factories.Count == 0)
        {
            throw new InvalidOperationException("ContinueIfUnavailable() applies to the stage added before it; add a stage first.");
        }

        return ContinueIfUnavailable(_factories.Count - 1);
    }

    /// <summary>Makes every stage from <paramref name="firstIndex"/> to the last added optional.</summary>
    internal LockPipelineBuilder ContinueIfUnavailable(int firstIndex)
    {
        if (_built)
        {
            throw new InvalidOperationException("The pipeline has already been built: a pipeline is immutable.");
        }

        for (var i = firstIndex; i < _factories.Count; i++)
        {
            var inner = _factories[i];
            _factories[i] = context => new ContinueIfUnavailableStage(
                inner(context), context.LoggerFactory.CreateLogger(DualLockTelemetry.Name), context.TimeProvider);
        }

        return this;
    }

    /// <summary>Creates the pipeline.</summary>
    /// <returns>The immutable pipeline.</returns>
    /// <exception cref="InvalidOperationException">
    /// No stage was added, two stages share a name, or the order of the stages cannot be safe (see
    /// <see cref="LockStageTraits"/>): a lock inside a transaction stage, a row lock without one, a
    /// fenced transaction with no token issuer outside it, a fallback with no lock inside it.
    /// </exception>
    /// <exception cref="ArgumentException">The name or the wait timeout is invalid (the message lists every problem).</exception>
    public LockPipeline Build()
    {
        var problems = new List<string>();
        var check = OptionChecks.For(this, problems);
        check.NotEmpty(nameof(Name), Name);
        LockPipelineOptions.Validate(check, WaitTimeout);
        OptionChecks.ThrowIfAny(problems, $"Pipeline '{Name}'", parameterName: null);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(LoggerFactory);
        if (_factories.Count == 0)
        {
            throw new InvalidOperationException(
                $"Pipeline '{Name}' has no stage. Add at least one; use AddNoLock() for a deliberate pipeline without a lock.");
        }

        _built = true;
        var context = new LockStageBuildContext(Name, TimeProvider, LoggerFactory, DualLockTelemetry.Meter);
        var stages = new LockStage[_factories.Count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < stages.Length; i++)
        {
            stages[i] = _factories[i](context) ?? throw new InvalidOperationException($"Stage factory #{i + 1} of pipeline '{Name}' returned null.");
            if (!names.Add(stages[i].Name))
            {
                throw new InvalidOperationException(
                    $"Pipeline '{Name}' has two stages named '{stages[i].Name}'; stage names must be unique so metrics and errors can tell them apart.");
            }
        }

        CompositionRules.Check(Name, stages, RequireFencedTransactions);
        return new LockPipeline(Name, stages, WaitTimeout, ConflictRetry?.ValidatedCopy(Name), TimeProvider, LoggerFactory.CreateLogger(DualLockTelemetry.Name));
    }
}
