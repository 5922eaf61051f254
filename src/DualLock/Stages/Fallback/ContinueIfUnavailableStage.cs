using DualLock.Telemetry;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>
/// Wraps a stage so that "lock service unavailable" means "continue without this lock" instead of
/// failing. Only correct when an inner stage still serialises the work (a database row lock inside
/// a Redis lock): the fallback trades the outer lock's benefit, never the data's safety.
/// </summary>
internal sealed class ContinueIfUnavailableStage : LockStage
{
    private readonly LockStage _inner;
    private readonly ILogger _logger;

    private readonly LogThrottle _logThrottle;

    public ContinueIfUnavailableStage(LockStage inner, ILogger logger, TimeProvider timeProvider)
        : base(inner.Name)
    {
        _inner = inner;
        _logger = logger;
        _logThrottle = new LogThrottle(timeProvider, LogThrottle.DefaultInterval);
    }

    /// <summary>Gets the wrapped stage, whose service state the pipeline reports.</summary>
    internal LockStage Inner => _inner;

    /// <summary>Gets the wrapped stage's traits: what it does when its service is up.</summary>
    protected internal override LockStageTraits Traits => _inner.Traits;

    /// <summary>The whole set or none of it: the inner stage has released any key it held when it reports unavailable.</summary>
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        try
        {
            // Called inside the try: a stage may also throw before it returns its task.
            return await _inner.TryAcquireAsync(context, waitTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            DualLockTelemetry.Fallbacks.Add(1, new(DualLockTelemetry.PipelineTag, context.PipelineName), new(DualLockTelemetry.StageTag, Name));
            if (_logThrottle.TryEnter(out var suppressed))
            {
                Log.ContinuedWithoutStage(_logger, Name, context.Keys.First.Resource, context.PipelineName, suppressed, ex);
            }

            context.SetFeature(new SkippedStages(Name, context.GetFeature<SkippedStages>()));
            return SkippedHandle.Instance;
        }
    }

    /// <summary>Whether <paramref name="handle"/> stands for this stage skipped during an outage (it holds no lock and issued no token).</summary>
    internal static bool IsSkipped(LockStageHandle handle) => ReferenceEquals(handle, SkippedHandle.Instance);

    private sealed class SkippedHandle : LockStageHandle
    {
        public static readonly SkippedHandle Instance = new();

        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
