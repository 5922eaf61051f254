using System.Diagnostics;

namespace DualLock.Testing;

/// <summary>One call of a <see cref="FakeLockStrategy"/>: the failure chosen for it, applied where a pipeline would report it.</summary>
internal static class FakeLockRun
{
    public static async ValueTask<LockAttempt<TResult>> RunAsync<TResult, TState>(
        FakeLockStrategy strategy,
        FakeLockCall call,
        LockContext context,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var resource = call.Keys.First.Resource;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (call.Failure)
            {
                case FakeLockFailure.Timeout when !call.ThrowOnTimeout:
                    return default;
                case FakeLockFailure.Timeout:
                    throw new LockTimeoutException(resource, strategy.Name, Stopwatch.GetElapsedTime(started), call.WaitTimeout);
                case FakeLockFailure.Unavailable:
                    throw new LockUnavailableException(resource, strategy.Name, Stopwatch.GetElapsedTime(started), new TimeoutException("The fake lock service did not answer."));
                case FakeLockFailure.Conflict:
                    throw new LockConflictException(resource, strategy.Name, Stopwatch.GetElapsedTime(started), 1, new OptimisticConflictException());
            }

            var result = await RunWorkAsync(strategy, call, context, work, state, cancellationToken).ConfigureAwait(false);
            if (call.Failure == FakeLockFailure.CommitOutcomeUnknown)
            {
                throw new LockCommitOutcomeUnknownException(
                    resource, strategy.Name, Stopwatch.GetElapsedTime(started), new IOException("The fake commit lost its connection before the database answered."));
            }

            call.Succeeded = true;
            return new LockAttempt<TResult>(true, result);
        }
        catch (Exception ex)
        {
            call.Exception = ex;
            throw;
        }
    }

    private static async ValueTask<TResult> RunWorkAsync<TResult, TState>(
        FakeLockStrategy strategy,
        FakeLockCall call,
        LockContext context,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        call.WorkRan = true;
        if (call.Failure != FakeLockFailure.LeaseLost)
        {
            return await work(context, state, cancellationToken).ConfigureAwait(false);
        }

        // The lease is lost before the work starts, so the work sees its token cancelled and LeaseLost set, as it would
        // mid-way; the call fails either way (a pipeline rolls the transaction back).
        using var lost = new CancellationTokenSource();
        lost.Cancel();
        using var watch = context.WatchLease(strategy.Name, static (_, _) => { }, lost.Token);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.LeaseLost);
        try
        {
            await work(context, state, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LockLeaseLostException(call.Keys.First.Resource, strategy.Name, Stopwatch.GetElapsedTime(started), "the fake lost the lock while the work ran.", ex);
        }

        throw new LockLeaseLostException(call.Keys.First.Resource, strategy.Name, Stopwatch.GetElapsedTime(started), "the fake lost the lock while the work ran.");
    }
}
