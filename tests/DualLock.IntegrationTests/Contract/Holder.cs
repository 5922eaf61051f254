namespace DualLock.IntegrationTests.Contract;

/// <summary>Holds a key through a pipeline until told to let go: the "held elsewhere" of the contract cases.</summary>
public sealed class Holder : IAsyncDisposable
{
    /// <summary>The generous upper bound for anything that should happen at once (a busy 2-core machine runs this).</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Holder()
    {
    }

    /// <summary>Gets the execution; it completes after <see cref="ReleaseAsync"/>.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Gets the token the holder's work received.</summary>
    public CancellationToken WorkToken { get; private set; }

    /// <summary>Starts holding <paramref name="key"/> and returns once the work runs (bounded).</summary>
    public static async Task<Holder> StartAsync(LockPipeline pipeline, LockKey key)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var holder = new Holder();
        var running = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        holder.Completion = pipeline.ExecuteAsync(
            key,
            async (_, ct) =>
            {
                running.TrySetResult(ct);
                await holder._release.Task;
            },
            cancellationToken: CancellationToken.None).AsTask();
        var started = await Task.WhenAny(running.Task, holder.Completion).WaitAsync(Bound);
        if (started == holder.Completion)
        {
            await holder.Completion; // surfaces why it failed to acquire
            throw new InvalidOperationException("The holder completed without running its work.");
        }

        holder.WorkToken = await running.Task;
        return holder;
    }

    /// <summary>Lets go and waits (bounded) for the execution to finish; its failure surfaces here.</summary>
    public async Task ReleaseAsync()
    {
        _release.TrySetResult();
        await Completion.WaitAsync(Bound);
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        try
        {
            await Completion.WaitAsync(Bound);
        }
        catch (Exception)
        {
            // Cleanup after a test that already failed; ReleaseAsync is where a holder's failure is asserted.
        }
    }
}
