namespace DualLock;

public sealed partial class LockPipeline
{
    /// <summary>
    /// At most this many executions of one pipeline hold a prepared stage (an open connection in a transaction) while
    /// their outer stage still acquires: the prepare helps the caller whose outer lock comes quickly, and on a hot key,
    /// where the outer acquire waits, it must not take a connection per waiter (the pass-on already lets the next
    /// caller in line open its transaction while the holder works).
    /// </summary>
    internal const int MaxPreparedAhead = 4;

    /// <summary><c>_preparesAfter[i]</c>: stage i is an outer lock and stage i + 1 may be prepared while it acquires.</summary>
    private readonly bool[] _preparesAfter;

    private int _preparedAhead;

    private static bool[] PreparableAfter(LockStage[] stages)
    {
        var after = new bool[stages.Length];
        for (var i = 0; i + 1 < stages.Length; i++)
        {
            var outer = stages[i].Traits;
            after[i] = (outer & LockStageTraits.Excludes) != 0 && (outer & LockStageTraits.HeldByTransaction) == 0
                && stages[i + 1] is PreparingLockStage { CanPrepare: true };
        }

        return after;
    }

    /// <summary>Starts preparing stage <paramref name="index"/> + 1 beside stage <paramref name="index"/>'s acquire, when allowed; else <see langword="null"/>.</summary>
    private Task<object?>? StartPrepare(int index, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        if (!_preparesAfter[index])
        {
            return null;
        }

        if (Interlocked.Increment(ref _preparedAhead) > MaxPreparedAhead)
        {
            Interlocked.Decrement(ref _preparedAhead);
            return null;
        }

        return PrepareQuietlyAsync((PreparingLockStage)_stages[index + 1], waitTimeout, cancellationToken);
    }

    private static async Task<object?> PrepareQuietlyAsync(PreparingLockStage stage, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return await stage.PrepareAsync(waitTimeout, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // best effort: the plain acquire runs next and reports the failure as it always does
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>
    /// Waits for the prepare started beside stage <paramref name="index"/>; keeps its result when <paramref name="use"/>
    /// (the outer stage acquired), else discards it. Counts the prepare as no longer ahead of its outer stage.
    /// </summary>
    private async ValueTask<object?> EndPrepareAsync(Task<object?>? prepare, int index, bool use)
    {
        if (prepare is null)
        {
            return null;
        }

        try
        {
            var prepared = await prepare.ConfigureAwait(false);
            if (!use && prepared is not null)
            {
                await DiscardPreparedAsync(index + 1, prepared).ConfigureAwait(false);
                return null;
            }

            return prepared;
        }
        finally
        {
            Interlocked.Decrement(ref _preparedAhead);
        }
    }

    private ValueTask DiscardPreparedAsync(int index, object? prepared)
        => prepared is null ? ValueTask.CompletedTask : ((PreparingLockStage)_stages[index]).DiscardAsync(prepared);
}
