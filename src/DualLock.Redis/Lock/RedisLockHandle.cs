namespace DualLock.Redis;

/// <summary>One holder's turn with a Redis lease; the lease may pass on to the next local holder.</summary>
internal sealed class RedisLockHandle(RedisLockStage stage, KeyTurn turn, LockKey key, RedisLease lease, bool contended) : LockStageHandle
{
    private readonly long _fencingToken = lease.FencingToken; // this holder's: the lease's rises with each later hand-off
    private int _released;

    public override long? FencingToken => _fencingToken;

    public override CancellationToken LeaseLost => lease.LeaseLost;

    public override bool Contended => contended;

    internal RedisLease Lease => lease;

    /// <summary>An inner stage refused this holder's token: the lease is marked lost, so it is released, not handed on.</summary>
    public override void MarkSuperseded() => lease.Supersede();

    public override ValueTask ReleaseAsync(bool workSucceeded)
        => Interlocked.Exchange(ref _released, 1) == 0 ? stage.ReleaseAsync(turn, key, lease) : ValueTask.CompletedTask;
}
