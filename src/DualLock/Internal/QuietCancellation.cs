namespace DualLock;

/// <summary>
/// Cancelling a token the library owns without letting someone else's callback throw through the canceller.
/// </summary>
/// <remarks>
/// The tokens the library passes on reach MySqlConnector, which registers <c>MySqlCommand.Cancel</c> on them;
/// on a session whose socket the server already reset, that callback throws (<c>SocketException</c> from
/// <c>Socket.RemoteEndPoint</c>; mysql-net/MySqlConnector#871, open). Cancelled from a timer (a deadline, a lease
/// watchdog) the exception is unhandled on a thread-pool thread and ends the process: the fault search saw a
/// worker exit with code 134 that way under <c>KILL CONNECTION</c>. Every callback still runs (a source cancels
/// with <c>throwOnFirstException: false</c>), the command fails on its own broken connection, so the exception
/// says nothing the caller does not learn anyway.
/// </remarks>
internal static class QuietCancellation
{
    /// <summary>Cancels <paramref name="source"/>; an exception of a registered callback (or a source already disposed by its owner) is dropped.</summary>
    public static void CancelQuietly(this CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // a callback of whoever registered on the token threw; see the remarks
        }
        catch (ObjectDisposedException)
        {
            // a timer's last tick raced the owner's Dispose: nobody waits on the token any more
        }
    }

    /// <summary>The callback form of <see cref="CancelQuietly"/>, for <c>Register(callback, source)</c>.</summary>
    public static readonly Action<object?> CancelQuietlyCallback = static state => ((CancellationTokenSource)state!).CancelQuietly();

    /// <summary>The timer form of <see cref="CancelQuietly"/>, for <see cref="TimeProvider.CreateTimer"/>.</summary>
    public static readonly TimerCallback CancelQuietlyOnTimer = static state => ((CancellationTokenSource)state!).CancelQuietly();
}

/// <summary>
/// A token cancelled when either of two tokens is, like <see cref="CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, CancellationToken)"/>,
/// but cancelled quietly (<see cref="QuietCancellation"/>): whoever cancels one of the two is not thrown at by the
/// callbacks registered on this one.
/// </summary>
internal sealed class QuietLinkedCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly CancellationTokenRegistration _first;
    private readonly CancellationTokenRegistration _second;

    public QuietLinkedCancellation(CancellationToken first, CancellationToken second)
    {
        _first = first.UnsafeRegister(QuietCancellation.CancelQuietlyCallback, _source);
        _second = second.UnsafeRegister(QuietCancellation.CancelQuietlyCallback, _source);
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        _source.Dispose();
    }
}
