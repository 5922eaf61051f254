using System.Runtime.ExceptionServices;
using DualLock.Telemetry;

namespace DualLock;

/// <summary>
/// What a stage holds for the keys of a multi-key execution when it acquires them one by one: each key's
/// handle, released in reverse order, with one lease-lost signal for all of them.
/// </summary>
internal sealed class KeySetHandle : LockStageHandle
{
    private readonly LockStageHandle[] _handles;
    private readonly long?[]? _tokens;
    private readonly CancellationTokenSource? _leaseLost;
    private readonly bool _contended;

    private KeySetHandle(LockStageHandle[] handles)
    {
        _handles = handles;
        List<CancellationToken>? losable = null;
        for (var i = 0; i < handles.Length; i++)
        {
            var handle = handles[i];
            _contended |= handle.Contended;
            if (handle.FencingToken is { } token)
            {
                _tokens ??= new long?[handles.Length];
                _tokens[i] = token;
            }

            if (handle.LeaseLost.CanBeCanceled)
            {
                (losable ??= []).Add(handle.LeaseLost);
            }
        }

        _leaseLost = losable is null ? null : CancellationTokenSource.CreateLinkedTokenSource([.. losable]);
    }

    public override IReadOnlyList<long?>? FencingTokens => _tokens;

    public override CancellationToken LeaseLost => _leaseLost?.Token ?? CancellationToken.None;

    public override bool Contended => _contended;

    /// <summary>Acquires <paramref name="stage"/> for each key of the context in order, within one wait for the set.</summary>
    public static async ValueTask<LockStageHandle?> AcquireEachAsync(
        LockStage stage,
        LockContext context,
        TimeSpan waitTimeout,
        Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>> acquireKey,
        CancellationToken cancellationToken)
    {
        var keys = context.Keys;
        var handles = new LockStageHandle[keys.Count];
        var held = 0;
        var time = context.TimeProvider;
        var started = time.GetTimestamp();
        try
        {
            for (; held < handles.Length; held++)
            {
                var remaining = waitTimeout - time.GetElapsedTime(started);
                var handle = await acquireKey(context, keys[held], remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                if (handle is null)
                {
                    // This key is still someone else's: give back the ones before it so that holder (or anyone) can go on.
                    await GiveBackAsync(stage, context, handles, held).ConfigureAwait(false);
                    return null;
                }

                handles[held] = handle;
            }
        }
        catch
        {
            await GiveBackAsync(stage, context, handles, held).ConfigureAwait(false);
            throw;
        }

        return new KeySetHandle(handles);
    }

    public override void MarkSuperseded()
    {
        foreach (var handle in _handles)
        {
            handle.MarkSuperseded();
        }
    }

    public override async ValueTask ReleaseAsync(bool workSucceeded)
    {
        try
        {
            var failure = await ReleaseAsync(_handles, _handles.Length, workSucceeded, null).ConfigureAwait(false);
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }
        finally
        {
            _leaseLost?.Dispose();
        }
    }

    /// <summary>
    /// Gives back the first <paramref name="count"/> keys of a set not wholly acquired. A release failure is logged, not
    /// thrown: the caller must see the timeout or the acquire failure, and the key stays held only until its lease ends.
    /// </summary>
    private static async ValueTask GiveBackAsync(LockStage stage, LockContext context, LockStageHandle[] handles, int count)
        => await ReleaseAsync(handles, count, workSucceeded: false, ex => Log.GiveBackFailed(context.Logger, stage.Name, context.Keys.First.Resource, context.PipelineName, ex))
            .ConfigureAwait(false);

    /// <summary>
    /// Releases the first <paramref name="count"/> handles, last acquired first; every one is released even when one throws.
    /// Each failure goes to <paramref name="onFailure"/> when given; the first one is returned.
    /// </summary>
    private static async ValueTask<Exception?> ReleaseAsync(LockStageHandle[] handles, int count, bool workSucceeded, Action<Exception>? onFailure)
    {
        Exception? first = null;
        for (var i = count - 1; i >= 0; i--)
        {
            try
            {
                await handles[i].ReleaseAsync(workSucceeded).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                onFailure?.Invoke(ex);
                first ??= ex;
            }
        }

        return first;
    }
}
