using System.Diagnostics;

namespace DualLock;

/// <summary>
/// A lock per key inside one process: correct for one instance only, the cheapest stage in front
/// of a distributed one (it keeps a process's callers from contending in Redis or the database).
/// </summary>
/// <remarks>Waiters are served in arrival order. A key that nobody holds or waits for costs no memory.</remarks>
internal sealed class InProcessLockStage : LockStage
{
    private readonly KeyedRegistry<KeyedSemaphore> _semaphores = new(KeyedSemaphore.Create);
    private readonly int _maxQueueLength;
    private readonly Func<LockContext, LockKey, TimeSpan, CancellationToken, ValueTask<LockStageHandle?>> _acquireKey;

    /// <summary>Initializes a new instance of the <see cref="InProcessLockStage"/> class.</summary>
    /// <param name="options">The options, already validated (<see cref="LockPipelineBuilder.AddStage{TOptions}"/>). Default: <see cref="InProcessLockOptions"/> defaults.</param>
    public InProcessLockStage(InProcessLockOptions? options = null)
        : base((options ??= new InProcessLockOptions()).Name)
    {
        Debug.Assert(options.Validate().Count == 0, "The builder validates the options when the stage is added.");
        _maxQueueLength = options.MaxQueueLength;
        _acquireKey = AcquireKeyAsync;
    }

    /// <summary>Gets the number of keys currently held or waited for (idle keys are forgotten).</summary>
    internal int ActiveKeyCount => _semaphores.Count;

    /// <summary>A lock of this process only.</summary>
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes;

    /// <inheritdoc />
    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => AcquireEachKeyAsync(context, waitTimeout, _acquireKey, cancellationToken);

    private async ValueTask<LockStageHandle?> AcquireKeyAsync(LockContext context, LockKey key, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var entry = _semaphores.Enter(key.ToString(), _maxQueueLength);
        if (entry is null)
        {
            return null;
        }

        var acquired = false;
        var contended = false;
        try
        {
            acquired = entry.Semaphore.Wait(0, CancellationToken.None);
            if (!acquired && waitTimeout > TimeSpan.Zero)
            {
                contended = true;
                acquired = await entry.Semaphore.WaitAsync(waitTimeout, cancellationToken).ConfigureAwait(false);
            }

            return acquired ? new Handle(_semaphores, entry, contended) : null;
        }
        finally
        {
            if (!acquired)
            {
                _semaphores.Exit(entry);
            }
        }
    }

    private sealed class Handle(KeyedRegistry<KeyedSemaphore> semaphores, KeyedSemaphore entry, bool contended) : LockStageHandle
    {
        private int _released;

        public override bool Contended => contended;

        public override ValueTask ReleaseAsync(bool workSucceeded)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Semaphore.Release();
                semaphores.Exit(entry);
            }

            return ValueTask.CompletedTask;
        }
    }
}
