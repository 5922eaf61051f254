using DualLock;
using UserPointApi.Points;

namespace UserPointApi.Locking;

/// <summary>What a <see cref="WriteModeStage"/> tells the work: how to write.</summary>
public sealed record WriteModeFeature(WriteMode Mode);

/// <summary>
/// A stage that locks nothing and tells the work how to write (<see cref="StrategyWiring.WriteModeOf"/>): the
/// <c>atomic</c> strategy's one conditional update needs no lock, but the domain code must not ask which strategy runs it.
/// </summary>
public sealed class WriteModeStage(string name, WriteMode mode) : LockStage(name)
{
    private readonly WriteModeFeature _feature = new(mode);

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetFeature(_feature);
        return ValueTask.FromResult<LockStageHandle?>(Nothing.Instance);
    }

    private sealed class Nothing : LockStageHandle
    {
        public static readonly Nothing Instance = new();

        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
