namespace DualLock.Redis;

/// <summary>One holder's turn with a Redis lease; the lease may pass on to the next local holder.</summary>
internal sealed class RedisLockHandle(RedisLockStage stage, KeyTurn turn, LockKey key, RedisLease lease, bool contended) : LockStageHandle
{
    private int _released;

    public override long? FencingToken => lease.FencingToken;

    public override CancellationToken LeaseLost => lease.LeaseLost;

    public override bool Contended => contended;

    internal RedisLease Lease => lease;

    public override ValueTask ReleaseAsync(bool workSucceeded)
        => Interlocked.Exchange(ref _released, 1) == 0 ? stage.ReleaseAsync(turn, key, lease) : ValueTask.CompletedTask;
}
