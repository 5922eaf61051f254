namespace DualLock.Tests.Pipeline;

/// <summary>Holds a key through a pipeline until released, so a test can contend with the holder.</summary>
internal sealed class HeldLock
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _holder = Task.CompletedTask;

    /// <summary>Returns once the holder's work runs, that is, once the key is held.</summary>
    public static async Task<HeldLock> TakeAsync(LockPipeline pipeline, LockKey key, TimeSpan? waitTimeout = null)
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holdLock = new HeldLock();
        holdLock._holder = pipeline.ExecuteAsync(key, async (_, _) =>
        {
            held.SetResult();
            await holdLock._release.Task;
        }, waitTimeout ?? pipeline.WaitTimeout).AsTask();
        await held.Task;
        return holdLock;
    }

    /// <summary>Lets the holder's work return and waits until the pipeline released the key.</summary>
    public async Task ReleaseAsync()
    {
        _release.TrySetResult();
        await _holder;
    }
}
