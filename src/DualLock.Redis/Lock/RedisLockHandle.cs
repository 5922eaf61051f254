namespace DualLock.Redis;

/// <summary>One holder's turn with a Redis lease; the lease may pass on to the next local holder.</summary>
internal sealed class RedisLockHandle(RedisLockStage stage, KeyTurn turn, LockKey key, RedisLease lease, bool contended) : LockStageHandle
{
    private readonly long _fencingToken = lease.FencingToken; // this holder's: the lease's rises with each later hand-off
    private int _released;
    private bool _innerExclusionHeld;

    public override long? FencingToken => _fencingToken;

    public override CancellationToken LeaseLost => lease.LeaseLost;

    public override bool Contended => contended;

    internal RedisLease Lease => lease;

    /// <summary>Gets or sets whether this holder's turn passed on before its work ended (set under the key's turn lock, see <see cref="KeyTurn.TryPassEarly"/>).</summary>
    internal bool Passed { get; set; }

    /// <summary>An inner stage refused this holder's token: the lease is marked lost, so it is released, not handed on.</summary>
    public override void MarkSuperseded() => lease.Supersede();

    /// <summary>A row lock inside now excludes the key: the turn may go to the next local caller before this work ends.</summary>
    internal override void OnInnerExclusionHeld()
    {
        _innerExclusionHeld = true;
        stage.TryPassEarly(turn, key, this);
    }

    public override ValueTask ReleaseAsync(bool workSucceeded)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        if (_innerExclusionHeld && turn.WithdrawOffer(this))
        {
            return stage.ReleasePassedEarlyAsync(turn, key, lease);
        }

        return stage.ReleaseAsync(turn, key, lease);
    }
}
