namespace DualLock;

/// <summary>
/// A context feature listing the stages that were skipped because their lock service was
/// unavailable (see <see cref="LockPipelineBuilder.ContinueIfUnavailable()"/>); absent when none was.
/// </summary>
public sealed class SkippedStages
{
    internal SkippedStages(string stage, SkippedStages? earlier)
    {
        Names = earlier is null ? [stage] : [.. earlier.Names, stage];
    }

    /// <summary>Gets the names of the skipped stages, outermost first.</summary>
    public IReadOnlyList<string> Names { get; }
}
