using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Optimistic concurrency with a version column: runs the work in a transaction, and when it reports
/// a lost compare-and-set (<see cref="MySqlOptimisticAttempt.CompareAndSetAsync"/> changed no row)
/// rolls back and runs it again, in a new transaction, after a jittered backoff, up to
/// <see cref="MySqlOptimisticOptions.MaxAttempts"/> times.
/// </summary>
/// <remarks>
/// Not a pipeline stage on purpose: a stage is acquired once around the work, but an optimistic
/// update must re-run the work after a conflict. Nothing is locked while the work computes; the
/// only lock is the row lock the compare-and-set takes until commit. Thread-safe; create one and share it.
/// </remarks>
public sealed class MySqlOptimisticExecutor
{
    private readonly MySqlOptimisticOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance of the <see cref="MySqlOptimisticExecutor"/> class.</summary>
    /// <param name="options">The options, validated and copied here.</param>
    /// <param name="timeProvider">The time source of the backoff. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">The logger factory. Default: no logging.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public MySqlOptimisticExecutor(MySqlOptimisticOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Copy();
        OptionChecks.ThrowIfAny(_options.Validate, $"Optimistic executor '{_options.Name}'");
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("DualLock.MySql");
    }

    /// <summary>Runs <paramref name="work"/> until its compare-and-set succeeds, then commits.</summary>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="key">The key of the resource (for messages, metrics and logs).</param>
    /// <param name="work">Reads the row and its version, then writes with a compare-and-set; may run several times.</param>
    /// <param name="cancellationToken">Cancels the work and the backoff; the current attempt is rolled back.</param>
    /// <returns>What the successful attempt returned.</returns>
    /// <exception cref="MySqlOptimisticConflictException">Every attempt conflicted; nothing was committed.</exception>
    /// <exception cref="LockUnavailableException">The database could not be reached.</exception>
    public async ValueTask<TResult> ExecuteAsync<TResult>(
        LockKey key,
        Func<MySqlOptimisticAttempt, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var started = _timeProvider.GetTimestamp();
        var connection = new MySqlConnection(_options.ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(key.Resource, _options.Name, _timeProvider.GetElapsedTime(started), ex);
            }

            MySqlException? lastServerError = null;
            for (var number = 1; ; number++)
            {
                var transaction = await connection.BeginTransactionAsync(_options.IsolationLevel, cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var attempt = new MySqlOptimisticAttempt(key, number, connection, transaction);
                    TResult result;
                    try
                    {
                        result = await work(attempt, cancellationToken).ConfigureAwait(false);
                    }
                    catch (MySqlException ex) when (MySqlErrors.IsDeadlock(ex) || MySqlErrors.IsLockWait(ex))
                    {
                        // Two compare-and-sets colliding in the server: the same outcome as a lost version check.
                        lastServerError = ex;
                        attempt.ReportConflict();
                        result = default!;
                    }
                    catch
                    {
                        await RollbackQuietlyAsync(transaction).ConfigureAwait(false);
                        throw;
                    }

                    if (!attempt.Conflicted)
                    {
                        await MySqlErrors.CommitAsync(transaction, key.Resource, _options.Name, () => _timeProvider.GetElapsedTime(started)).ConfigureAwait(false);
                        return result;
                    }

                    await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                }

                MySqlTelemetry.For(null).OptimisticConflicts.Add(1, new KeyValuePair<string, object?>(DualLock.Telemetry.DualLockTelemetry.StageTag, _options.Name));
                if (number >= _options.MaxAttempts)
                {
                    Log.OptimisticExhausted(_logger, key.Resource, number);
                    throw new MySqlOptimisticConflictException(key.Resource, _options.Name, _timeProvider.GetElapsedTime(started), number, lastServerError);
                }

                var delay = Backoff.Delay(number - 1, _options.RetryDelay, _options.MaxRetryDelay);
                Log.OptimisticConflict(_logger, key, number, delay.TotalMilliseconds);
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask RollbackQuietlyAsync(MySqlTransaction transaction)
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException || MySqlErrors.IsUnavailable(ex))
        {
            // The work's failure is what matters; disposing the connection ends the transaction anyway.
        }
    }
}
