namespace DualLock.AspNetCore;

/// <summary>The feature the filters set: one per handler run.</summary>
internal sealed class LockContextFeature(LockContext context) : ILockContextFeature
{
    public LockContext Context { get; } = context;
}
