namespace DualLock;

/// <summary>Full-jitter exponential backoff: waiting retries spread out instead of colliding again.</summary>
internal static class Backoff
{
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16)));
#pragma warning disable CA5394 // jitter, not security
        return TimeSpan.FromMilliseconds(Math.Max(1, Random.Shared.NextDouble() * ceiling));
#pragma warning restore CA5394
    }
}
