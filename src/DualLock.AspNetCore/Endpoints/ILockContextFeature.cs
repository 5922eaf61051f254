namespace DualLock.AspNetCore;

/// <summary>
/// The <see cref="LockContext"/> of the lock a request's handler runs in, set in <c>HttpContext.Features</c> by the
/// endpoint filter (<c>WithLock</c>) and the controller attribute (<see cref="WithLockAttribute"/>) while the handler
/// runs, and removed when it returns.
/// </summary>
/// <remarks>Read it with <see cref="Microsoft.AspNetCore.Http.LockHttpContextExtensions.GetLockContext"/>.</remarks>
public interface ILockContextFeature
{
    /// <summary>Gets the lock context: the key, its fencing token and the features the stages provide (the open transaction).</summary>
    LockContext Context { get; }
}
