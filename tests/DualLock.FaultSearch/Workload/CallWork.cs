using System.Collections.Concurrent;
using System.Diagnostics;
using DualLock.FaultSearch.Witness;
using DualLock.MySql;
using DualLock.PostgreSql;

namespace DualLock.FaultSearch.Workload;

/// <summary>A failure of the harness's own ledger write (its own connection, not the lock's): the call proves nothing.</summary>
internal sealed class HarnessLedgerException(Exception inner) : Exception("The harness's ledger write failed: " + inner.Message, inner);

/// <summary>
/// The work every call runs under its lock: tell the witness it is inside, write its ledger row (in the
/// lock's transaction when there is one), tell the witness it is leaving. Shared by a strategy's clients.
/// </summary>
internal sealed class CallWork(StrategySpec spec, string mySql, int witnessPort)
{
    private static readonly TimeSpan LongHold = TimeSpan.FromMilliseconds(1300);
    private readonly ConcurrentBag<WitnessClient> _witnesses = [];

    public async ValueTask RunAsync(CallRecord call, LockContext context, CancellationToken cancellationToken)
    {
        var enteredAt = Environment.TickCount64;
        Tokens(call, context);
        var witness = await RentAsync();
        try
        {
            foreach (var key in call.KeyIds)
            {
                await witness.EnterAsync(key, call.Holder, call.Kind == "s" ? "s" + spec.Permits : call.Kind, enteredAt);
            }

            call.EnteredMs = Since(call);
            try
            {
                // A critical section with some length; one call in 40 holds for longer than a renewal interval
                // (1 s), so a lease lost under a fault is noticed while the holder is still inside.
                // A long holder ignores its token (as work that never checks it does): a lease lost meanwhile must
                // still fail the call, which the checker sees through LeaseLostSeen.
                var longHold = Random.Shared.Next(40) == 0;
                var token = longHold ? CancellationToken.None : cancellationToken;
                await Task.Delay(longHold ? LongHold : TimeSpan.FromMilliseconds(Random.Shared.Next(0, 3)), token);
                await WriteAsync(call, context, token);
                call.LeaseLostSeen = context.LeaseLost.IsCancellationRequested;
                call.LeaseLostStage = context.LeaseLostStage;
                call.WorkReturned = true;
            }
            finally
            {
                call.ExitingMs = Since(call);
                foreach (var key in call.KeyIds)
                {
                    await witness.ExitAsync(key, call.Holder);
                }
            }
        }
        finally
        {
            _witnesses.Add(witness);
        }
    }

    /// <summary>The combiner's batch: one holder in the witness, one ledger row per call, all in the batch's transaction.</summary>
    public async ValueTask RunBatchAsync(IReadOnlyList<CallRecord> batch, LockContext context, CancellationToken cancellationToken)
    {
        var enteredAt = Environment.TickCount64;
        var holder = "b" + batch[0].Id;
        var first = batch[0];
        var witness = await RentAsync();
        try
        {
            await witness.EnterAsync(first.KeyIds[0], holder, "x", enteredAt);
            foreach (var call in batch)
            {
                call.Holder = holder;
                Tokens(call, context);
                call.EnteredMs = Since(call);
            }

            try
            {
                foreach (var call in batch)
                {
                    await WriteAsync(call, context, cancellationToken);
                    call.WorkReturned = true;
                }
            }
            finally
            {
                foreach (var call in batch)
                {
                    call.ExitingMs = Since(call);
                }

                await witness.ExitAsync(first.KeyIds[0], holder);
            }
        }
        finally
        {
            _witnesses.Add(witness);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_witnesses.TryTake(out var witness))
        {
            await witness.DisposeAsync();
        }
    }

    /// <summary>Each key's token; <see cref="CallRecord.Token"/> is the only key's (a key set has none: it throws there).</summary>
    private static void Tokens(CallRecord call, LockContext context)
    {
        call.KeyTokens = [.. call.Keys.Select(context.GetFencingToken)];
        call.Token = call.KeyTokens.Length == 1 ? call.KeyTokens[0] : null;
    }

    private static double Since(CallRecord call) => Stopwatch.GetElapsedTime(call.StartTimestamp).TotalMilliseconds;

    private async Task WriteAsync(CallRecord call, LockContext context, CancellationToken cancellationToken)
    {
        if (spec.Transaction && spec.Postgres)
        {
            var pg = context.GetRequiredFeature<PostgresTransactionFeature>();
            await Ledger.WriteAsync(pg.Connection, pg.Transaction, call, cancellationToken);
            return;
        }

        if (spec.Transaction)
        {
            var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
            await Ledger.WriteAsync(tx.Connection, tx.Transaction, call, cancellationToken);
            return;
        }

        // Not cancelled halfway: a write of its own that the cancellation cut would leave the outcome unknown for the harness's reasons.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await Ledger.WriteOwnAsync(mySql, call, CancellationToken.None);
        }
        catch (Exception ex)
        {
            throw new HarnessLedgerException(ex);
        }
    }

    private async ValueTask<WitnessClient> RentAsync()
        => _witnesses.TryTake(out var witness) ? witness : await WitnessClient.ConnectAsync(witnessPort, CancellationToken.None);
}
