using System.Diagnostics.Metrics;
using DualLock.Telemetry;

namespace DualLock.PostgreSql;

/// <summary>The PostgreSQL package's counters, created on the <c>DualLock</c> meter the pipeline's build context provides.</summary>
internal sealed class PostgresTelemetry
{
    private static readonly Lazy<Meter> DirectMeter = new(() => new Meter(DualLockTelemetry.Name));
    private static PostgresTelemetry? _last;

    private PostgresTelemetry(Meter meter)
    {
        Meter = meter;
        FenceRejected = meter.CreateCounter<long>("duallock.postgres.fence.rejected", "{event}", "Transactions refused when they began because a newer fencing token was already recorded for the key.");
    }

    public Meter Meter { get; }

    public Counter<long> FenceRejected { get; }

    /// <summary>The counters on <paramref name="meter"/>, created once per meter (see the MySQL package's telemetry).</summary>
    public static PostgresTelemetry For(Meter? meter)
    {
        meter ??= DirectMeter.Value;
        var last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.Meter, meter))
        {
            return last;
        }

        var created = new PostgresTelemetry(meter);
        Volatile.Write(ref _last, created);
        return created;
    }
}
