namespace DualLock.Telemetry;

/// <summary>
/// Lets one message through per interval and counts the rest. During an outage every execution fails
/// the same way; logging each one (with its exception and stack trace) costs more than the failure and
/// says nothing new. The metrics still count every one.
/// </summary>
internal sealed class LogThrottle(TimeProvider timeProvider, TimeSpan interval)
{
    /// <summary>The interval the pipeline's repeated failure messages are throttled to.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private readonly long _intervalTicks = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    /// <summary>Whether this message may be logged; when it may, how many were suppressed since the last one.</summary>
    public bool TryEnter(out long suppressedBefore)
    {
        var now = timeProvider.GetTimestamp();
        var next = Volatile.Read(ref _nextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref _nextAllowed, now + _intervalTicks, next) == next)
        {
            suppressedBefore = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressedBefore = 0;
        return false;
    }
}
