using System.Data;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Opening a connection and <c>BEGIN</c>, bounded by the wait. MySqlConnector reads the server's answers to both with
/// neither the cancellation token nor a command timeout: <c>BEGIN</c> is not a command
/// (<see cref="MySqlConnection.BeginTransactionAsync(IsolationLevel, CancellationToken)"/> goes to the session
/// directly), and a pooled connection's reset on open is bounded only by the connection string's
/// <c>Connection Timeout</c>. A server that hangs there (stopped, or behind a stuck proxy: the socket stays open) would
/// hold the caller until TCP gives up, or for that timeout. At the deadline the caller is let go; the connection stays
/// with its unanswered step and is closed when that ends (the server answers or the socket fails), never while a read
/// on it is pending. At most <see cref="Limit"/> connections per stage wait so: past that the stage reports the server
/// unavailable without opening another one, and what a hung server can cost stays bounded.
/// </summary>
internal sealed class UnansweredSteps
{
    /// <summary>How many unanswered opens and <c>BEGIN</c>s one stage keeps before it stops opening connections.</summary>
    internal const int Limit = 32;

    /// <summary>How long past the deadline a step may still end on its own before it counts as unanswered.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(50);

    private int _unanswered;

    /// <summary>Gets how many connections still wait for the server to answer a step whose caller was let go.</summary>
    public int Count => Volatile.Read(ref _unanswered);

    /// <summary>Gets a value indicating whether <see cref="Limit"/> connections wait so: open no other one.</summary>
    public bool Saturated => Count >= Limit;

    /// <summary>Opens the connection; <see langword="false"/> when <paramref name="deadline"/> fired first, and the connection then belongs to the unanswered open.</summary>
    public async ValueTask<bool> OpenAsync(MySqlConnection connection, WaitDeadline deadline)
        => await WithinAsync(connection, OpenedAsync(connection, deadline.Token), deadline).ConfigureAwait(false) is not null;

    /// <summary>Begins the transaction; <see langword="null"/> when <paramref name="deadline"/> fired first, and the connection then belongs to the unanswered <c>BEGIN</c>.</summary>
    public ValueTask<MySqlTransaction?> BeginAsync(MySqlConnection connection, IsolationLevel isolationLevel, WaitDeadline deadline)
        => WithinAsync(connection, connection.BeginTransactionAsync(isolationLevel, deadline.Token).AsTask(), deadline);

    private static async Task<MySqlConnection> OpenedAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private async ValueTask<T?> WithinAsync<T>(MySqlConnection connection, Task<T> step, WaitDeadline deadline)
        where T : class
    {
        try
        {
            return await step.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!step.IsCompleted)
        {
            // Where the driver does honour the token (a wait for a free pooled connection) the step ends with it,
            // just after this wait does: that is a plain timeout, reported as the step's own, and costs no connection.
            if (await Task.WhenAny(step, Task.Delay(Grace)).ConfigureAwait(false) == step)
            {
                return await step.ConfigureAwait(false);
            }

            Interlocked.Increment(ref _unanswered);
            _ = CloseWhenAnsweredAsync(connection, step);
            return null;
        }
    }

    private async Task CloseWhenAnsweredAsync<T>(MySqlConnection connection, Task<T> step)
    {
        try
        {
            // A late answer to BEGIN: disposing the transaction rolls it back (a command, bounded by its command
            // timeout); nothing was written in it.
            if (await step.ConfigureAwait(false) is MySqlTransaction transaction)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // the socket failed or the server refused: the pool discards a broken session
        catch (Exception)
        {
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
#pragma warning restore CA1031
        finally
        {
            Interlocked.Decrement(ref _unanswered);
        }
    }
}
