using System.Diagnostics;
using System.Runtime.ExceptionServices;
using DualLock.Telemetry;

namespace DualLock;

public sealed partial class LockPipeline
{
    /// <summary>The longest wait a caller may ask for: waits are bounded, never infinite.</summary>
    public static readonly TimeSpan MaxWaitTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The one execution path; the work comes with a state so the public overloads need no closure per call.</summary>
    private async ValueTask<LockAttempt<TResult>> RunAsync<TResult, TState>(
        LockKeySet keySet,
        TimeSpan waitTimeout,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        bool throwOnTimeout,
        int attempt,
        CancellationToken cancellationToken)
    {
        ValidateWaitTimeout(waitTimeout, nameof(waitTimeout));
        cancellationToken.ThrowIfCancellationRequested();

        // Every stage locks the whole set (in canonical order) before the next stage starts.
        var context = new LockContext(keySet, Name, waitTimeout, _timeProvider, attempt, _conflictRetry is not null);
        var resource = keySet.First.Resource;
        context.Logger = _logger;
        var held = new HeldStage[_stages.Length];
        var acquiredCount = 0;
        LockStage? timedOut = null;
        LockTimeoutException? stageTimeout = null;
        var start = _timeProvider.GetTimestamp();

        // What the stage after the current one prepared while the current one acquired (PreparingLockStage); ended on every path.
        object? prepared = null;
        try
        {
            while (acquiredCount < _stages.Length)
            {
                var stage = _stages[acquiredCount];
                if (acquiredCount == _enforcesFencingAt)
                {
                    // Checked before the fenced transaction opens: nothing is written, and the outer locks are released below.
                    RequireEveryKeyFenced(context, held, acquiredCount);
                }

                var remaining = waitTimeout - _timeProvider.GetElapsedTime(start);
                var wait = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining;
                var mine = prepared;
                prepared = null;
                var prepare = StartPrepare(acquiredCount, wait, cancellationToken);
                LockStageHandle? handle = null;
                try
                {
                    handle = await AcquireStageAsync(stage, context, wait, mine, cancellationToken).ConfigureAwait(false);
                }
                catch (LockTimeoutException ex)
                {
                    // A stage that reports its own timeout (a database lock-wait timeout) is still a
                    // timeout: TryExecuteAsync reports it as not acquired, ExecuteAsync rethrows it.
                    stageTimeout = ex;
                    handle = null;
                }
                finally
                {
                    prepared = await EndPrepareAsync(prepare, acquiredCount, use: handle is not null).ConfigureAwait(false);
                }

                if (handle is null)
                {
                    timedOut = stage;
                    break;
                }

                // Held (and so released on any failure below) before anything else can throw: a stage that reports a
                // wrong token count, or a lease-lost callback that throws, must not leave its lock behind.
                var index = acquiredCount++;
                held[index] = new HeldStage(handle, _timeProvider.GetTimestamp(), default);
                held[index] = held[index] with { LeaseWatch = WatchLease(context, stage, handle) };
                if (handle.FencingTokens is { } tokens)
                {
                    context.SetFencingTokens(tokens);
                }
                else if (handle.FencingToken is { } token && keySet.Count == 1)
                {
                    context.SetFencingToken(0, token);
                }
            }
        }
        catch (Exception ex) when (acquiredCount > 0)
        {
            // A prepare of the stage after the last one held (kept when that one acquired) is never used now.
            await DiscardPreparedAsync(acquiredCount, prepared).ConfigureAwait(false);
            if (ex is LockLeaseLostException)
            {
                // An inner stage refused the outer stages' fencing token (a later holder already wrote): their
                // locks are not current, so none of them may be passed on to another local caller.
                for (var i = 0; i < acquiredCount; i++)
                {
                    held[i].Handle.MarkSuperseded();
                }
            }

            // An inner stage failed (unavailable, cancelled ...): the outer ones must not stay held.
            await ReleaseAsync(context, held, acquiredCount, workSucceeded: false, failing: true).ConfigureAwait(false);
            throw;
        }

        if (timedOut is not null)
        {
            await ReleaseAsync(context, held, acquiredCount, workSucceeded: false, failing: true).ConfigureAwait(false);
            if (throwOnTimeout)
            {
                if (stageTimeout is not null)
                {
                    ExceptionDispatchInfo.Throw(stageTimeout);
                }

                throw new LockTimeoutException(resource, timedOut.Name, _timeProvider.GetElapsedTime(start), waitTimeout);
            }

            return default;
        }

        if (_innerExclusion > 0 && keySet.Count == 1)
        {
            // The row is locked from here to the commit: the outer locks' local turns may go on to the next caller now.
            for (var i = 0; i < _innerExclusion; i++)
            {
                held[i].Handle.OnInnerExclusionHeld();
            }
        }

        TResult result;
        var linked = context.LeaseLost.CanBeCanceled
            ? new QuietLinkedCancellation(cancellationToken, context.LeaseLost)
            : null;

        // The held section: what the work traces (its database calls) becomes a child of this span.
        var hold = DualLockTelemetry.StartSpan(DualLockTelemetry.HoldSpan, Name, resource);
        try
        {
            result = await work(context, state, linked?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            linked?.Dispose();
            DualLockTelemetry.EndSpan(hold, context.LeaseLostStage is null ? HoldOutcome.Failed : HoldOutcome.LeaseLost, HoldOutcome.Returned);
            await ReleaseAsync(context, held, acquiredCount, workSucceeded: false, failing: true).ConfigureAwait(false);
            if (ex is OperationCanceledException && context.LeaseLostStage is { } lostStage && !cancellationToken.IsCancellationRequested)
            {
                throw new LockLeaseLostException(
                    resource, lostStage, _timeProvider.GetElapsedTime(start), "the work was cancelled because the lock was lost.", ex);
            }

            throw;
        }

        linked?.Dispose();
        var lostWhileHeld = LostWhileHeld(context, held, acquiredCount);
        DualLockTelemetry.EndSpan(hold, lostWhileHeld is null ? HoldOutcome.Returned : HoldOutcome.LeaseLost, HoldOutcome.Returned);
        if (lostWhileHeld is { } lost)
        {
            // The work returned, but not under the lock all along: another holder may have been inside too.
            // Its transaction rolls back; a caller that ignored its token must not be told it succeeded.
            await ReleaseAsync(context, held, acquiredCount, workSucceeded: false, failing: true).ConfigureAwait(false);
            throw new LockLeaseLostException(resource, lost, _timeProvider.GetElapsedTime(start), OpensTransaction(acquiredCount)
                ? "the lock was lost while the work ran, so its transaction was rolled back."
                : "the lock was lost while the work ran; the pipeline has no transaction, so what the work wrote was not protected by the lock.");
        }

        await ReleaseAsync(context, held, acquiredCount, workSucceeded: true, failing: false).ConfigureAwait(false);
        return new LockAttempt<TResult>(true, result);
    }

    /// <summary>The stage whose lease was lost while held (the first reported, else any handle found lost now), or <see langword="null"/>.</summary>
    private string? LostWhileHeld(LockContext context, HeldStage[] held, int count)
    {
        if (context.LeaseLostStage is { } reported)
        {
            return reported;
        }

        for (var i = 0; i < count; i++)
        {
            if (held[i].Handle.LeaseLost.IsCancellationRequested)
            {
                return _stages[i].Name;
            }
        }

        return null;
    }

    private bool OpensTransaction(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if ((_stages[i].Traits & LockStageTraits.OpensTransaction) != 0)
            {
                return true;
            }
        }

        return false;
    }

    internal static void ValidateWaitTimeout(TimeSpan waitTimeout, string paramName)
    {
        if (waitTimeout < TimeSpan.Zero || waitTimeout > MaxWaitTimeout)
        {
            throw new ArgumentOutOfRangeException(
                paramName,
                waitTimeout,
                $"The wait timeout must be between 0 and {MaxWaitTimeout.TotalMinutes:0} minutes; waits are bounded (an infinite wait is not allowed).");
        }
    }

    private async ValueTask<LockStageHandle?> AcquireStageAsync(LockStage stage, LockContext context, TimeSpan waitTimeout, object? prepared, CancellationToken cancellationToken)
    {
        var activity = DualLockTelemetry.StartSpan(DualLockTelemetry.AcquireSpan, Name, context.Keys.First.Resource, stage.Name);

        var started = _timeProvider.GetTimestamp();
        var outcome = AcquireOutcome.Error;
        LockStageHandle? handle = null;
        try
        {
            handle = prepared is null
                ? await stage.TryAcquireAsync(context, waitTimeout, cancellationToken).ConfigureAwait(false)
                : await ((PreparingLockStage)stage).CompleteAsync(context, prepared).ConfigureAwait(false);
            outcome = handle is null ? AcquireOutcome.Timeout : AcquireOutcome.Acquired;
            return handle;
        }
        catch (LockUnavailableException ex)
        {
            outcome = AcquireOutcome.Unavailable;
            if (_unavailableLogThrottle.TryEnter(out var suppressed))
            {
                Log.Unavailable(_logger, stage.Name, context.Keys.First.Resource, Name, suppressed, ex);
            }

            throw;
        }
        catch (LockTimeoutException)
        {
            // A stage may report a timeout itself (a database lock-wait timeout carries the server's error).
            outcome = AcquireOutcome.Timeout;
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = AcquireOutcome.Cancelled;
            throw;
        }
        finally
        {
            var elapsed = _timeProvider.GetElapsedTime(started);
            var tags = new TagList
            {
                { DualLockTelemetry.PipelineTag, Name },
                { DualLockTelemetry.StageTag, stage.Name },
                { DualLockTelemetry.OutcomeTag, outcome },
            };
            DualLockTelemetry.AcquireDuration.Record(elapsed.TotalSeconds, tags);
            if (outcome == AcquireOutcome.Timeout || handle?.Contended == true)
            {
                DualLockTelemetry.Contended.Add(1, new(DualLockTelemetry.PipelineTag, Name), new(DualLockTelemetry.StageTag, stage.Name));
            }

            if (outcome == AcquireOutcome.Timeout)
            {
                Log.AcquireTimedOut(_logger, stage.Name, context.Keys.First.Resource, Name, elapsed.TotalMilliseconds);
            }
            else if (outcome == AcquireOutcome.Acquired)
            {
                Log.Acquired(_logger, stage.Name, context.Keys, Name, elapsed.TotalMilliseconds);
            }

            DualLockTelemetry.EndSpan(activity, outcome, AcquireOutcome.Acquired);
        }
    }

    private CancellationTokenRegistration WatchLease(LockContext context, LockStage stage, LockStageHandle handle)
    {
        var leaseLost = handle.LeaseLost;
        if (!leaseLost.CanBeCanceled)
        {
            return default;
        }

        return context.WatchLease(stage.Name, (ctx, stageName) =>
        {
            DualLockTelemetry.RecordLeaseLost(Name, stageName);
            Log.LeaseLost(_logger, stageName, ctx.Keys.First.Resource, Name);
        }, leaseLost);
    }

    /// <summary>
    /// Releases held stages innermost first. Every stage is released even when one release throws.
    /// When the execution is already failing, release failures are logged so the original failure surfaces.
    /// After the work returned, only a stage that opens a transaction (its release is the commit) can fail the
    /// call; a lock-only stage's release failure is logged and counted (<c>duallock.release.failed</c>).
    /// </summary>
    private async ValueTask ReleaseAsync(LockContext context, HeldStage[] held, int count, bool workSucceeded, bool failing)
    {
        // Stop listening for lease loss first: a lease ending because we release it is not a loss.
        for (var i = count - 1; i >= 0; i--)
        {
            await held[i].LeaseWatch.DisposeAsync().ConfigureAwait(false);
        }

        context.DisposeLeaseSource();

        Exception? firstReleaseFailure = null;
        for (var i = count - 1; i >= 0; i--)
        {
            var stage = _stages[i];
            var heldFor = _timeProvider.GetElapsedTime(held[i].AcquiredAt);

            // An inner release that failed (a commit that threw) means the work did not succeed for the outer stages either.
            var succeeded = workSucceeded && firstReleaseFailure is null;
            var span = DualLockTelemetry.StartSpan(DualLockTelemetry.ReleaseSpan, Name, context.Keys.First.Resource, stage.Name);
            span?.SetTag(DualLockTelemetry.WorkSucceededTag, succeeded);
            var released = false;
            try
            {
                await held[i].Handle.ReleaseAsync(succeeded).ConfigureAwait(false);
                released = true;
            }
            catch (Exception ex) when (failing)
            {
                Log.ReleaseFailedAfterWorkFailed(_logger, stage.Name, context.Keys.First.Resource, Name, ex);
            }
            catch (Exception ex) when ((stage.Traits & LockStageTraits.OpensTransaction) == 0)
            {
                // A lock (not a commit) that fails to release after the work returned changes nothing the work did:
                // the transaction inside it has committed. Thrown, it would tell the caller "not applied" and invite a
                // retry that applies twice; the lock is left to its lease, the failure logged and counted.
                DualLockTelemetry.ReleaseFailed.Add(1, new(DualLockTelemetry.PipelineTag, Name), new(DualLockTelemetry.StageTag, stage.Name));
                Log.ReleaseFailedAfterWorkReturned(_logger, stage.Name, context.Keys.First.Resource, Name, ex);
            }
            catch (Exception ex)
            {
                // A commit that failed: the work's effects are not kept, and the outer stages release as failed.
                firstReleaseFailure ??= ex;
            }
            finally
            {
                DualLockTelemetry.EndSpan(span, released ? ReleaseOutcome.Released : ReleaseOutcome.Failed, ReleaseOutcome.Released);
                DualLockTelemetry.HoldDuration.Record(
                    heldFor.TotalSeconds,
                    new(DualLockTelemetry.PipelineTag, Name),
                    new(DualLockTelemetry.StageTag, stage.Name));
                Log.Released(_logger, stage.Name, context.Keys, Name, heldFor.TotalMilliseconds);
            }
        }

        if (firstReleaseFailure is not null)
        {
            ExceptionDispatchInfo.Throw(firstReleaseFailure);
        }
    }

    private readonly record struct HeldStage(LockStageHandle Handle, long AcquiredAt, CancellationTokenRegistration LeaseWatch);
}
