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

    private readonly ConflictRetryOptions? _conflictRetry;

    internal LockPipeline(string name, LockStage[] stages, TimeSpan waitTimeout, ConflictRetryOptions? conflictRetry, TimeProvider timeProvider, ILogger logger)
    {
        Name = name;
        _conflictRetry = conflictRetry;
        _stages = stages;
        WaitTimeout = waitTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _unavailableLogThrottle = new LogThrottle(timeProvider, LogThrottle.DefaultInterval);
        StageNames = Array.AsReadOnly(Array.ConvertAll(stages, s => s.Name));
        _innerExclusion = InnerExclusionStart(stages);
        _enforcesFencingAt = EnforcesFencingStart(stages);
        _preparesAfter = PreparableAfter(stages);
    }

    // The index of the first stage that excludes in the database until its transaction ends (a row lock),
    // or -1: the stages outside it are told when it is held (LockStageHandle.OnInnerExclusionHeld).
    private readonly int _innerExclusion;

    private static int InnerExclusionStart(LockStage[] stages)
    {
        const LockStageTraits rowLock = LockStageTraits.Excludes | LockStageTraits.HeldByTransaction;
        for (var i = 1; i < stages.Length; i++)
        {
            if ((stages[i].Traits & rowLock) == rowLock)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Gets the pipeline name (the DI key when registered through <c>AddDualLock</c>).</summary>
    public string Name { get; }

    /// <summary>Gets the default wait timeout: the longest an execution waits to acquire all stages.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets the stage names, outermost first.</summary>
    public IReadOnlyList<string> StageNames { get; }

    /// <summary>The argument checks every <see cref="ILockStrategy.ExecuteCoreAsync"/> makes (the pipeline's and the test double's).</summary>
    internal static void ThrowIfInvalidCall(LockKeySet keys, Delegate work)
    {
        if (keys.IsDefault)
        {
            throw new ArgumentException("The lock key set is default(LockKeySet); pass a LockKey or create the set from keys.", nameof(keys));
        }

        ArgumentNullException.ThrowIfNull(work);
    }

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> ExecuteCoreAsync<TResult, TState>(
        LockKeySet keys,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        TimeSpan? waitTimeout,
        bool throwOnTimeout,
        CancellationToken cancellationToken)
    {
        ThrowIfInvalidCall(keys, work);
        var wait = waitTimeout ?? WaitTimeout;
        return _conflictRetry is null
            ? RunAsync(keys, wait, work, state, throwOnTimeout, attempt: 1, cancellationToken)
            : RerunOnConflictAsync(keys, wait, work, state, throwOnTimeout, cancellationToken);
    }
}
