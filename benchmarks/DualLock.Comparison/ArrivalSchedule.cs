namespace DualLock.Comparison;

/// <summary>
/// An open-model arrival rate over time (like k6's constant- and ramping-arrival-rate executors):
/// iterations start on schedule whether or not earlier ones finished, so a slow server sees more
/// concurrent requests, not fewer requests.
/// </summary>
internal sealed class ArrivalSchedule(string name, double startRate, IReadOnlyList<(TimeSpan Duration, double Target)> stages)
{
    public string Name { get; } = name;

    public TimeSpan Length { get; } = stages.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);

    public static ArrivalSchedule Constant(string name, double rate, TimeSpan duration) => new(name, rate, [(duration, rate)]);

    /// <summary>Expected number of arrivals from the start to <paramref name="elapsed"/>: the integral of the linear ramps.</summary>
    public double ArrivalsUntil(TimeSpan elapsed)
    {
        double total = 0;
        var from = startRate;
        var t = elapsed.TotalSeconds;
        foreach (var (duration, target) in stages)
        {
            var d = duration.TotalSeconds;
            var span = Math.Min(t, d);
            total += (from * span) + ((target - from) * span * span / (2 * d));
            t -= d;
            if (t <= 0)
            {
                break;
            }

            from = target;
        }

        return total;
    }

    /// <summary>When the <paramref name="arrivals"/>-th arrival is due (the inverse of <see cref="ArrivalsUntil"/>); <see cref="Length"/> past the last.</summary>
    public TimeSpan TimeOf(double arrivals)
    {
        // ArrivalsUntil never decreases, so bisection converges; 40 halvings of a 30 min span are below 2 µs.
        double low = 0, high = Length.TotalSeconds;
        for (var i = 0; i < 40; i++)
        {
            var middle = (low + high) / 2;
            if (ArrivalsUntil(TimeSpan.FromSeconds(middle)) >= arrivals)
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }

        return TimeSpan.FromSeconds(high);
    }
}
