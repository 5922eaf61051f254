namespace DualLock.Tests.Pipeline;

/// <summary>A fake stage (pure composition logic, no lock) that records what the pipeline does with it.</summary>
internal sealed class RecordingStage(string name, List<string> log) : LockStage(name)
{
    public bool TimeOut { get; init; }

    public Exception? AcquireFailure { get; init; }

    public Exception? ReleaseFailure { get; init; }

    public long? Token { get; init; }

    public CancellationToken Lease { get; init; }

    public TimeSpan? LastWait { get; private set; }

    /// <summary>What the fake declares it does; composition rules read it at Build().</summary>
    public LockStageTraits DeclaredTraits { get; init; }

    protected internal override LockStageTraits Traits => DeclaredTraits;

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        LastWait = waitTimeout;
        log.Add($"acquire {Name} (token seen: {context.GetFencingToken(context.Keys.First)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})");
        if (AcquireFailure is not null)
        {
            throw AcquireFailure;
        }

        return ValueTask.FromResult<LockStageHandle?>(TimeOut ? null : new Handle(this, log));
    }

    private sealed class Handle(RecordingStage stage, List<string> log) : LockStageHandle
    {
        public override long? FencingToken => stage.Token;

        public override CancellationToken LeaseLost => stage.Lease;

        public override ValueTask ReleaseAsync(bool workSucceeded)
        {
            log.Add($"release {stage.Name} {(workSucceeded ? "commit" : "rollback")}");
            return stage.ReleaseFailure is null ? ValueTask.CompletedTask : ValueTask.FromException(stage.ReleaseFailure);
        }
    }
}
