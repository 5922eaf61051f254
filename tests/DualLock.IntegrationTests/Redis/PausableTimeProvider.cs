namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// The system clock whose timers can be held back, as in a process paused (stop-the-world GC, a frozen VM,
/// a starved thread pool): time goes on and Redis expires the lease, but no renewal tick runs until
/// <see cref="Resume"/>. Timestamps are real, so lease arithmetic sees the pause.
/// </summary>
internal sealed class PausableTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<(TimerCallback Callback, object? State)> _held = [];
    private bool _paused;

    public override long TimestampFrequency => System.TimestampFrequency;

    public override long GetTimestamp() => System.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow();

    public void Pause()
    {
        lock (_gate)
        {
            _paused = true;
        }
    }

    /// <summary>Ends the pause and runs the ticks it held back, as a resumed process does.</summary>
    public void Resume()
    {
        List<(TimerCallback Callback, object? State)> held;
        lock (_gate)
        {
            _paused = false;
            held = [.. _held];
            _held.Clear();
        }

        foreach (var (callback, state) in held)
        {
            ThreadPool.QueueUserWorkItem(s => callback(s), state, preferLocal: false);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => System.CreateTimer(
            s =>
            {
                lock (_gate)
                {
                    if (_paused)
                    {
                        _held.Add((callback, s));
                        return;
                    }
                }

                callback(s);
            },
            state,
            dueTime,
            period);
}
