namespace DualLock;

/// <summary>
/// A stage that locks nothing. It exists as the negative control of comparisons: a pipeline with
/// only this stage must lose updates under concurrency, which proves the oracle can see a loss.
/// </summary>
internal sealed class NoLockStage : LockStage
{
    private static readonly ValueTask<LockStageHandle?> Acquired = new(NoLockHandle.Instance);

    /// <summary>Initializes a new instance of the <see cref="NoLockStage"/> class.</summary>
    /// <param name="name">The stage name. Default: <c>none</c>.</param>
    public NoLockStage(string name = "none")
        : base(name)
    {
    }

    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => Acquired;

    private sealed class NoLockHandle : LockStageHandle
    {
        public static readonly NoLockHandle Instance = new();

        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
