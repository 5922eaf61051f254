using System.Runtime.ExceptionServices;
using DualLock.Telemetry;

namespace DualLock;

public sealed partial class LockPipeline
{
    /// <summary>
    /// The optimistic execution: the whole pipeline, stages and work, runs again after a conflict; each attempt has
    /// released its stages as failed (its transaction rolled back) before the next starts.
    /// </summary>
    private async ValueTask<LockAttempt<TResult>> RerunOnConflictAsync<TResult, TState>(
        LockKeySet keys,
        TimeSpan waitTimeout,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        bool throwOnTimeout,
        CancellationToken cancellationToken)
    {
        var retry = _conflictRetry!;
        ValidateWaitTimeout(waitTimeout, nameof(waitTimeout));
        var start = _timeProvider.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            // One wait for every attempt: each attempt's stages get what is left of it (a transaction stage still gets one round trip).
            var remaining = waitTimeout - _timeProvider.GetElapsedTime(start);
            ExceptionDispatchInfo conflict;
            try
            {
                return await RunAsync(keys, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, work, state, throwOnTimeout, attempt, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (retry.Matches(ex) && !cancellationToken.IsCancellationRequested)
            {
                conflict = ExceptionDispatchInfo.Capture(ex);
            }

            DualLockTelemetry.Conflicts.Add(1, new KeyValuePair<string, object?>(DualLockTelemetry.PipelineTag, Name));
            if (attempt >= retry.MaxAttempts)
            {
                Log.ConflictsExhausted(_logger, attempt, keys.First.Resource, Name);
                throw new LockConflictException(keys.First.Resource, Name, _timeProvider.GetElapsedTime(start), attempt, conflict.SourceException);
            }

            var delay = retry.Backoff(attempt);
            Log.Conflicted(_logger, attempt, keys.First.Resource, Name, delay.TotalMilliseconds);
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
