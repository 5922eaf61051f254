namespace DualLock;

/// <summary>
/// The end of what is left of a pipeline's wait, as a token that fires at that time or when the caller
/// cancels; shared by the database packages. Passed to MySqlConnector, it ends a pool wait, and a statement
/// waiting in the server for a lock is interrupted with <c>KILL QUERY</c> (the connection stays usable): waits
/// end on time even where the server only counts whole seconds. Npgsql ends a pool wait or a statement the same
/// way (a cancel request on a second connection).
/// </summary>
internal sealed class WaitDeadline : IDisposable
{
    /// <summary>
    /// The least a step that is not only a wait (opening a connection, BEGIN, a round trip) is given, so
    /// a pipeline that spent its whole wait on an outer stage (or tries once, with a zero wait) can still
    /// open its transaction on a busy machine: 100 ms was exceeded under parallel test load.
    /// </summary>
    public static readonly TimeSpan MinimumRoundTrip = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource _source = new();
    private readonly ITimer? _timer;
    private readonly CancellationTokenRegistration _caller;
    private readonly CancellationToken _callerToken;

    private WaitDeadline(TimeSpan after, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        // Not new CancellationTokenSource(after, timeProvider): its timer cancels unguarded, and MySqlConnector's
        // cancel callback throws on a session the server reset, which ended the process (QuietCancellation).
        if (after > TimeSpan.Zero)
        {
            _timer = timeProvider.CreateTimer(QuietCancellation.CancelQuietlyOnTimer, _source, after, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _source.Cancel(); // nothing is registered yet
        }

        _callerToken = cancellationToken;
        _caller = cancellationToken.UnsafeRegister(QuietCancellation.CancelQuietlyCallback, _source);
    }

    /// <summary>Gets the token to pass to the database driver.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Gets a value indicating whether the deadline passed (and not the caller's cancellation).</summary>
    public bool Expired => _source.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    public static WaitDeadline After(TimeSpan after, TimeProvider timeProvider, CancellationToken cancellationToken)
        => new(after, timeProvider, cancellationToken);

    /// <summary>Whole seconds for a server-side wait (<c>innodb_lock_wait_timeout</c>) that ends no earlier than the deadline: the deadline ends it on time.</summary>
    public static int ServerSeconds(TimeSpan remaining) => Math.Max(1, (int)Math.Ceiling(remaining.TotalSeconds));

    public void Dispose()
    {
        _timer?.Dispose();
        _caller.Dispose();
        _source.Dispose();
    }
}
