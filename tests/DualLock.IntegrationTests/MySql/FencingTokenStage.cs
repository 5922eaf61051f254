namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// Stands in for an outer distributed lock that has lost exclusivity: it always "acquires" and issues
/// the fencing token the test chose, and its lease is lost when the test says so. Only the ordering of
/// tokens and the lease-lost signal matter to the database stages under test, and both are controlled here.
/// </summary>
public sealed class FencingTokenStage(long token, string name = "fake-outer-lock") : LockStage(name)
{
    private readonly CancellationTokenSource _leaseLost = new();

    /// <summary>Signals that this stage's lease is gone, as a Redis stage does when a renewal finds the key taken.</summary>
    public void LoseLease() => _leaseLost.Cancel();

    /// <summary>Declares what the lock it stands in for does, so a fenced transaction inside it builds.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => ValueTask.FromResult<LockStageHandle?>(new Handle(token, _leaseLost.Token));

    private sealed class Handle(long token, CancellationToken leaseLost) : LockStageHandle
    {
        public override long? FencingToken => token;

        public override CancellationToken LeaseLost => leaseLost;

        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
