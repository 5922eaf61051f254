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

    /// <summary>Adds one to <c>duallock.lease.lost</c>; for stages that detect a loss outside the pipeline.</summary>
    /// <param name="pipeline">The pipeline name.</param>
    /// <param name="stage">The stage name.</param>
    internal static void RecordLeaseLost(string pipeline, string stage)
        => LeaseLost.Add(1, new(PipelineTag, pipeline), new(StageTag, stage));
}
