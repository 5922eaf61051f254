using Microsoft.Extensions.Logging;
using Npgsql;

namespace DualLock.PostgreSql;

/// <summary>
/// Runs a locking statement inside the execution's transaction within what is left of the wait: the server ends the
/// wait (<c>lock_timeout</c>, in milliseconds; <c>NOWAIT</c> or a try function when nothing is left), and a client
/// deadline a round trip later is the backstop. Every failure ends the transaction in PostgreSQL, so there is no retry
/// inside it: a wait that runs out is a <see cref="LockTimeoutException"/> and the pipeline rolls back.
/// </summary>
internal static class LockingStatement
{
    /// <summary>Runs <paramref name="command"/> and counts the rows its results return, less each <see langword="false"/> of a try function.</summary>
    public static async Task<int> CountRowsAsync(
        NpgsqlCommand command, string resource, string stage, TimeSpan waitTimeout, TimeSpan remaining, long started, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        using var deadline = WaitDeadline.After((remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) + WaitDeadline.MinimumRoundTrip, time, cancellationToken);
        try
        {
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(deadline.Token).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // Every result, in order: a statement per key (advisory) or one for the set (rows). A try function's
                    // false is a row that did not lock.
                    var rows = 0;
                    do
                    {
                        while (reader.FieldCount > 0 && await reader.ReadAsync(deadline.Token).ConfigureAwait(false))
                        {
                            rows += reader.GetFieldType(0) == typeof(bool) && !reader.GetBoolean(0) ? 0 : 1;
                        }
                    }
                    while (await reader.NextResultAsync(deadline.Token).ConfigureAwait(false));

                    return rows;
                }
            }
        }
        catch (Exception ex) when (PostgresErrors.IsLockWait(ex) || PostgresErrors.IsConflict(ex) || deadline.Expired)
        {
            // A deadlock or a serialization failure has already aborted the transaction; the pipeline's release rolls it back.
            Log.LockFailed(logger, stage, resource, (ex as PostgresException)?.SqlState ?? (ex.InnerException as PostgresException)?.SqlState ?? "deadline");
            throw new LockTimeoutException(resource, stage, time.GetElapsedTime(started), waitTimeout, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && PostgresErrors.IsUnavailable(ex))
        {
            throw new LockUnavailableException(resource, stage, time.GetElapsedTime(started), ex);
        }
    }
}
