using System.Diagnostics.Metrics;
using DualLock.Telemetry;

namespace DualLock.MySql;

/// <summary>The MySQL package's counters, created on the <c>DualLock</c> meter the pipeline's build context provides.</summary>
internal sealed class MySqlTelemetry
{
    private static readonly Lazy<Meter> DirectMeter = new(() => new Meter(DualLockTelemetry.Name));
    private static MySqlTelemetry? _last;

    private MySqlTelemetry(Meter meter)
    {
        Meter = meter;
        FenceRejected = meter.CreateCounter<long>("duallock.mysql.fence.rejected", "{event}", "Transactions refused when they began because a newer fencing token was already recorded for the key.");
        NamedLockLost = meter.CreateCounter<long>("duallock.mysql.named_lock.lost", "{event}", "Named locks found lost while held (their session dropped, or RELEASE_LOCK found them gone).");
    }

    public Meter Meter { get; }

    public Counter<long> FenceRejected { get; }

    public Counter<long> NamedLockLost { get; }

    /// <summary>
    /// The counters on <paramref name="meter"/>, created once per meter; what is created outside a pipeline
    /// (the optimistic executor, stages in tests) uses a meter of the same name.
    /// </summary>
    public static MySqlTelemetry For(Meter? meter)
    {
        meter ??= DirectMeter.Value;
        var last = Volatile.Read(ref _last);
        if (last is not null && ReferenceEquals(last.Meter, meter))
        {
            return last;
        }

        var created = new MySqlTelemetry(meter);
        Volatile.Write(ref _last, created);
        return created;
    }
}
