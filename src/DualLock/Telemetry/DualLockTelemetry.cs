using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DualLock.Telemetry;

/// <summary>The one <see cref="Meter"/> and one <see cref="ActivitySource"/> of DualLock, and their instruments.</summary>
public static class DualLockTelemetry
{
    /// <summary>The name of the meter and of the activity source: <c>DualLock</c>.</summary>
    public const string Name = "DualLock";

    /// <summary>Tag: the stage name.</summary>
    public const string StageTag = "duallock.stage";

    /// <summary>Tag: the pipeline name.</summary>
    public const string PipelineTag = "duallock.pipeline";

    /// <summary>Tag: how an acquire ended (see <see cref="AcquireOutcome"/>).</summary>
    public const string OutcomeTag = "duallock.outcome";

    /// <summary>Tag: the resource type of the key (never the id).</summary>
    public const string ResourceTag = "duallock.resource";

    /// <summary>Tag of a release span: whether the stage was released after work that succeeded (its transaction commits) or as failed (rolled back).</summary>
    public const string WorkSucceededTag = "duallock.work.succeeded";

    /// <summary>The span of one stage's acquire (tags pipeline, stage, resource, outcome: an <see cref="AcquireOutcome"/>).</summary>
    public const string AcquireSpan = "duallock.acquire";

    /// <summary>The span of the held section, around the work (tags pipeline, resource, outcome: a <see cref="HoldOutcome"/>); what the work traces is its child.</summary>
    public const string HoldSpan = "duallock.hold";

    /// <summary>The span of one stage's release (tags pipeline, stage, resource, work succeeded, outcome: a <see cref="ReleaseOutcome"/>).</summary>
    public const string ReleaseSpan = "duallock.release";

    internal static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Histogram<double> AcquireDuration = Meter.CreateHistogram<double>(
        "duallock.acquire.duration", "s", "Time to acquire (or fail to acquire) one stage's lock.");

    internal static readonly Histogram<double> HoldDuration = Meter.CreateHistogram<double>(
        "duallock.hold.duration", "s", "Time a stage's lock was held, from acquired to released.");

    internal static readonly Counter<long> Contended = Meter.CreateCounter<long>(
        "duallock.acquire.contended", "{acquire}", "Acquires that had to wait for another holder.");

    internal static readonly Counter<long> LeaseLost = Meter.CreateCounter<long>(
        "duallock.lease.lost", "{lease}", "Locks found lost while the work ran.");

    internal static readonly Counter<long> ReleaseFailed = Meter.CreateCounter<long>(
        "duallock.release.failed", "{release}", "Lock releases that failed after the work had returned (the call still succeeded; the lock ends with its lease).");

    internal static readonly Counter<long> Conflicts = Meter.CreateCounter<long>(
        "duallock.conflicts",
        unit: "{conflict}",
        description: "Attempts of the work that lost their compare-and-set and were rolled back (re-run, or the last one).");

    internal static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>(
        "duallock.fallback", "{event}", "Acquires that continued without a stage because its lock service was unavailable.");

    /// <summary>Starts a span with the pipeline and resource tags; <see langword="null"/>, and nothing allocated, when nobody listens.</summary>
    internal static Activity? StartSpan(string name, string pipeline, string resource, string? stage = null)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = ActivitySource.StartActivity(name, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(PipelineTag, pipeline);
            if (stage is not null)
            {
                activity.SetTag(StageTag, stage);
            }

            activity.SetTag(ResourceTag, resource);
        }

        return activity;
    }

    /// <summary>Ends a span with its outcome; an outcome other than <paramref name="success"/> marks it as an error.</summary>
    internal static void EndSpan(Activity? activity, string outcome, string success)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(OutcomeTag, outcome);
        if (!string.Equals(outcome, success, StringComparison.Ordinal))
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }

        activity.Dispose();
    }

    /// <summary>Adds one to <c>duallock.lease.lost</c>; for stages that detect a loss outside the pipeline.</summary>
    /// <param name="pipeline">The pipeline name.</param>
    /// <param name="stage">The stage name.</param>
    internal static void RecordLeaseLost(string pipeline, string stage)
        => LeaseLost.Add(1, new(PipelineTag, pipeline), new(StageTag, stage));
}
