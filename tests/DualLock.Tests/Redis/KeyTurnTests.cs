using DualLock.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DualLock.Tests.Redis;

/// <summary>The local turn, queue and hand-off state of one key, without Redis.</summary>
public sealed class KeyTurnTests
{
    private static readonly Func<string, int, KeyTurn> Create = static (id, slot) => new KeyTurn(id, new RedisKeyNames("t", new LockKey("test", id)), slot);

    private static readonly PassBounds Bounds = new(32, TimeSpan.FromMilliseconds(50), TimeProvider.System);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void EnterTakePassExit_10kKeys_NothingLeft()
    {
        var turns = new KeyedRegistry<KeyTurn>();
        for (var i = 0; i < 10_000; i++)
        {
            var turn = turns.Enter($"k{i}", Create, -1, 10)!;
            Assert.True(turn.TryTakeTurn(mayQueue: true, Bounds, out _));
            Assert.False(turn.PassTurn(null));
            Assert.True(turns.Exit(turn));
        }

        Assert.Equal(0, turns.Count);
    }

    [Fact]
    public async Task EnterExit_ManyCallersOnFewKeys_CountsBalanceAndKeysAreForgotten()
    {
        var turns = new KeyedRegistry<KeyTurn>();
        var time = TimeProvider.System;
        long served = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, ct) =>
        {
            var turn = turns.Enter($"k{i % 10}", Create, -1, int.MaxValue)!;
            try
            {
                if (!turn.TryTakeTurn(mayQueue: true, Bounds, out var waiter))
                {
                    var grant = await turn.WaitForTurnAsync(waiter!, TimeSpan.FromSeconds(30), time, ct);
                    Assert.Equal(TurnOutcome.Contend, grant.Outcome);
                }

                Interlocked.Increment(ref served);
                turn.PassTurn(null);
            }
            finally
            {
                turns.Exit(turn);
            }
        });

        Assert.Equal(10_000, served);
        Assert.Equal(0, turns.Count);
    }

    [Fact]
    public void Users_CountsEveryCallerBetweenEnterAndExit()
    {
        var turns = new KeyedRegistry<KeyTurn>();
        var first = turns.Enter("k", Create, -1, 10)!;
        var second = turns.Enter("k", Create, -1, 10)!;
        Assert.Same(first, second);
        Assert.Equal(2, first.Users);

        Assert.False(turns.Exit(first));
        Assert.Equal(1, turns.Count);
        Assert.True(turns.Exit(second));
        Assert.Equal(0, turns.Count);
        Assert.Throws<InvalidOperationException>(() => turns.Exit(first));
        Assert.NotSame(first, turns.Enter("k", Create, -1, 10));
    }

    [Fact]
    public void Enter_MaxQueueLengthAlreadyHoldOrWait_Refused()
    {
        // The limit counts the key's users in this process: the one in turn and those waiting.
        var turns = new KeyedRegistry<KeyTurn>();
        var turn = turns.Enter("k", Create, -1, 2)!;
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        Assert.NotNull(turns.Enter("k", Create, -1, 2));
        Assert.False(turn.TryTakeTurn(true, Bounds, out var waiter));
        Assert.NotNull(waiter);

        Assert.Null(turns.Enter("k", Create, -1, 2));
        Assert.Equal(2, turn.Users);
    }

    [Fact]
    public void TryTakeTurn_HeldAndMayNotQueue_NotQueued()
    {
        var turn = Create("k", -1);
        Assert.True(turn.TryTakeTurn(false, Bounds, out _));

        Assert.False(turn.TryTakeTurn(false, Bounds, out var waiter));
        Assert.Null(waiter);
        Assert.Equal(0, turn.WaiterCount);
    }

    [Fact]
    public async Task PassTurn_Waiters_ServedInArrivalOrderThenFree()
    {
        var turn = Create("k", -1);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        var waiters = Enumerable.Range(0, 3).Select(_ => { turn.TryTakeTurn(true, Bounds, out var w); return w!; }).ToArray();

        for (var i = 0; i < 3; i++)
        {
            Assert.True(turn.PassTurn(null));
            Assert.True(waiters[i].Task.IsCompleted);
            Assert.All(waiters.Skip(i + 1), w => Assert.False(w.Task.IsCompleted));
            Assert.Equal(TurnOutcome.Contend, (await turn.WaitForTurnAsync(waiters[i], TimeSpan.FromSeconds(1), TimeProvider.System, Ct)).Outcome);
        }

        Assert.True(turn.InTurn);
        Assert.False(turn.PassTurn(null));
        Assert.False(turn.InTurn);
        Assert.Throws<InvalidOperationException>(() => turn.PassTurn(null));
    }

    [Fact]
    public async Task WaitForTurn_CancelledAfterTheTurnReachedIt_PassesTheTurnOn()
    {
        var turn = Create("k", -1);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.TryTakeTurn(true, Bounds, out var cancelled);
        turn.TryTakeTurn(true, Bounds, out var next);
        Assert.True(turn.PassTurn(null)); // the turn reaches the first waiter ...
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync(); // ... which was cancelled meanwhile

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turn.WaitForTurnAsync(cancelled!, TimeSpan.FromSeconds(1), TimeProvider.System, cts.Token));

        Assert.True(next!.Task.IsCompletedSuccessfully);
        Assert.Equal(TurnOutcome.Contend, (await turn.WaitForTurnAsync(next, TimeSpan.FromSeconds(1), TimeProvider.System, Ct)).Outcome);
        Assert.True(turn.InTurn);
        Assert.Equal(0, turn.WaiterCount);
    }

    [Fact]
    public async Task WaitForTurn_CancelledAsTheLockReachedIt_ReturnsTheLockToEnd()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        var lease = Lease(time);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.TryTakeTurn(true, Bounds, out var cancelled);
        turn.BeginPeriod(time.GetTimestamp());
        Assert.Equal(TurnEnd.HandedOff, turn.EndTurn(lease, new(8, TimeSpan.FromSeconds(1), time)));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var grant = await turn.WaitForTurnAsync(cancelled!, TimeSpan.FromSeconds(1), time, cts.Token);

        Assert.Equal(TurnOutcome.CancelledHolding, grant.Outcome);
        Assert.Same(lease, grant.Lease);
        Assert.True(turn.InTurn); // still this caller's, to hand off or release
    }

    [Fact]
    public async Task WaitForTurn_TimedOutWhileQueued_LeavesTheQueueAndTheTurnStays()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.TryTakeTurn(true, Bounds, out var waiter);

        var waiting = turn.WaitForTurnAsync(waiter!, TimeSpan.FromMilliseconds(50), time, Ct);
        time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(TurnOutcome.TimedOut, (await waiting).Outcome);
        Assert.Equal(0, turn.WaiterCount);
        Assert.True(turn.InTurn);
        Assert.False(turn.PassTurn(null));
    }

    [Fact]
    public async Task FailWaiters_EveryWaiterFailsAsUnavailable_CallerKeepsTheTurnUntilPassed()
    {
        var turn = Create("k", -1);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        var waiters = Enumerable.Range(0, 3).Select(_ => { turn.TryTakeTurn(true, Bounds, out var w); return w!; }).ToArray();

        turn.FailWaiters(new LockUnavailableException("test", "redis", TimeSpan.Zero));

        foreach (var waiter in waiters)
        {
            await Assert.ThrowsAsync<LockUnavailableException>(() => turn.WaitForTurnAsync(waiter, TimeSpan.FromSeconds(1), TimeProvider.System, Ct));
        }

        Assert.Equal(0, turn.WaiterCount);
        Assert.True(turn.InTurn);
        Assert.False(turn.PassTurn(null));
    }

    [Fact]
    public void EndTurn_WithinBounds_HandsOffThenEndsThePeriod()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        var lease = Lease(time);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        Assert.Equal(TurnEnd.Release, turn.EndTurn(lease, new(2, TimeSpan.FromSeconds(1), time))); // nobody waits
        turn.BeginPeriod(time.GetTimestamp());
        for (var i = 0; i < 4; i++)
        {
            turn.TryTakeTurn(true, Bounds, out _);
        }

        Assert.Equal(TurnEnd.HandedOff, turn.EndTurn(lease, new(2, TimeSpan.FromSeconds(1), time)));
        Assert.Equal(TurnEnd.HandedOff, turn.EndTurn(lease, new(2, TimeSpan.FromSeconds(1), time)));
        Assert.Equal(2, turn.Handoffs);
        Assert.Equal(TurnEnd.EndPeriod, turn.EndTurn(lease, new(2, TimeSpan.FromSeconds(1), time))); // count bound
        Assert.True(turn.HandOffKept(lease, time.GetTimestamp())); // kept in Redis: a new period
        Assert.Equal(1, turn.Handoffs);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TurnEnd.EndPeriod, turn.EndTurn(lease, new(2, TimeSpan.FromSeconds(1), time))); // time bound
        Assert.Equal(1, turn.WaiterCount);
    }

    [Fact]
    public void EndTurn_HandOffs_EachHolderGetsTheNextTokenUntilTheFenceHasNoneLeft()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        var lease = Lease(time);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.BeginPeriod(time.GetTimestamp());
        var tokens = new List<long> { lease.FencingToken };
        for (var i = 0; i < RedisFencingTokens.LocalPerFence + 1; i++)
        {
            turn.TryTakeTurn(true, Bounds, out _);
            if (turn.EndTurn(lease, new(int.MaxValue, TimeSpan.FromSeconds(5), time)) != TurnEnd.HandedOff)
            {
                break;
            }

            tokens.Add(lease.FencingToken);
        }

        Assert.Equal(RedisFencingTokens.LocalPerFence + 1, tokens.Count); // the fence's own token and its 63 local ones
        Assert.Equal(tokens.OrderBy(t => t).Distinct(), tokens);
        Assert.Equal(TurnEnd.EndPeriod, turn.EndTurn(lease, new(int.MaxValue, TimeSpan.FromSeconds(5), time))); // a new Redis fence first
        lease.Refence(RedisFencingTokens.FromRedis(2), RedisFencingTokens.LocalPerFence);
        Assert.True(lease.FencingToken > tokens[^1]);
    }

    [Fact]
    public void EndTurn_LastConfirmationNoLongerCoversANewHolder_Releases()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        var lease = Lease(time); // lease 10 s, operation timeout 1 s: a new holder needs 1.1 s of confirmed lease
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.BeginPeriod(time.GetTimestamp());
        turn.TryTakeTurn(true, Bounds, out _);
        time.Advance(TimeSpan.FromSeconds(8.8));
        Assert.Equal(TurnEnd.HandedOff, turn.EndTurn(lease, new(32, TimeSpan.FromSeconds(9.5), time)));
        turn.TryTakeTurn(true, Bounds, out _);
        time.Advance(TimeSpan.FromSeconds(0.2)); // paused: no renewal confirmed since the acquire 9 s ago

        Assert.Equal(TurnEnd.Release, turn.EndTurn(lease, new(32, TimeSpan.FromSeconds(9.5), time)));
    }

    [Fact]
    public void EndTurn_LeaseSuperseded_Releases()
    {
        var time = new FakeTimeProvider();
        var turn = Create("k", -1);
        var lease = Lease(time);
        Assert.True(turn.TryTakeTurn(true, Bounds, out _));
        turn.BeginPeriod(time.GetTimestamp());
        turn.TryTakeTurn(true, Bounds, out _);
        lease.Start();

        lease.Supersede();

        Assert.True(lease.LeaseLost.IsCancellationRequested);
        Assert.Equal(TurnEnd.Release, turn.EndTurn(lease, new(32, TimeSpan.FromSeconds(1), time)));
    }

    [Fact]
    public void TryPassEarly_NobodyWaits_OffersWithoutTakingATokenAndTheNextArrivalTakesTheNext()
    {
        var time = new FakeTimeProvider();
        var bounds = new PassBounds(32, TimeSpan.FromSeconds(1), time);
        var turn = HeldInAPeriod(time, bounds, out var lease);
        var holder = Holder(turn, lease);

        Assert.False(turn.TryPassEarly(holder, bounds)); // offered: nobody to pass to yet
        Assert.Equal(1, lease.FencingToken); // an offer nobody takes uses no token up
        Assert.False(turn.TryTakeTurn(true, bounds, out var arrival));
        Assert.NotNull(arrival);
        Assert.True(arrival.Task.IsCompleted); // the arrival took the offer: its turn came at once
        Assert.Equal(2, lease.FencingToken);
        Assert.True(turn.WithdrawOffer(holder)); // the holder's turn has passed
    }

    [Fact]
    public void WithdrawOffer_NobodyTookIt_TurnStaysWithTheHolderAndNoTokenIsUsed()
    {
        var time = new FakeTimeProvider();
        var bounds = new PassBounds(32, TimeSpan.FromSeconds(1), time);
        var turn = HeldInAPeriod(time, bounds, out var lease);
        var holder = Holder(turn, lease);
        Assert.False(turn.TryPassEarly(holder, bounds));

        Assert.False(turn.WithdrawOffer(holder));
        Assert.False(turn.TryTakeTurn(true, bounds, out var later)); // after the withdrawal a caller queues as usual
        Assert.NotNull(later);
        Assert.False(later.Task.IsCompleted);
        Assert.Equal(1, lease.FencingToken);
    }

    /// <summary>A turn its first caller holds, in a hand-off period that starts now.</summary>
    private static KeyTurn HeldInAPeriod(FakeTimeProvider time, PassBounds bounds, out RedisLease lease)
    {
        var turn = Create("k", -1);
        lease = Lease(time);
        Assert.True(turn.TryTakeTurn(true, bounds, out _));
        turn.BeginPeriod(time.GetTimestamp());
        return turn;
    }

    /// <summary>The holder's handle; the turn never uses its stage.</summary>
    private static RedisLockHandle Holder(KeyTurn turn, RedisLease lease) => new(null!, turn, new LockKey("test", "k"), lease, contended: false);

    private static RedisLease Lease(TimeProvider time) => new(
        "token",
        1,
        new LeaseSettings("redis", new LockKey("test", "k"), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), time, NullLogger.Instance, RedisLockTelemetry.For(null)),
        _ => Task.FromResult(true),
        time.GetTimestamp(),
        RedisFencingTokens.LocalPerFence);
}
