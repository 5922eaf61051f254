using System.Runtime.ExceptionServices;

namespace DualLock;

/// <summary>One caller's item and, once known, its outcome. Mutated only under its queue's lock or by its leader.</summary>
internal sealed class CombinerEntry<TItem, TResult>(TItem item, long start, CancellationToken cancellationToken)
{
    public TItem Item { get; } = item;

    /// <summary>Gets when the caller arrived: its wait deadline counts from here, also after a promotion.</summary>
    public long Start { get; } = start;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public CombinerState State { get; set; }

    /// <summary>Gets or sets the signal a queued caller awaits: <see langword="true"/> when promoted to leader, <see langword="false"/> when its outcome is set.</summary>
    public TaskCompletionSource<bool>? Signal { get; set; }

    public CombinerEntry<TItem, TResult>? Next { get; set; }

    public CombinerEntry<TItem, TResult>? Previous { get; set; }

    public ITimer? Deadline { get; set; }

    public CancellationTokenRegistration Cancellation { get; set; }

    public bool HasOutcome { get; private set; }

    private TResult? _result;
    private ExceptionDispatchInfo? _error;

    public void SetResult(TResult result)
    {
        _result = result;
        _error = null;
        HasOutcome = true;
    }

    public void SetError(ExceptionDispatchInfo error)
    {
        _result = default;
        _error = error;
        HasOutcome = true;
    }

    public TResult GetResult()
    {
        _error?.Throw();
        return _result!;
    }

    /// <summary>Stops the deadline timer and the cancellation callback; neither call waits for a running callback.</summary>
    public void Disarm()
    {
        Deadline?.Dispose();
        Deadline = null;
        Cancellation.Unregister();
    }
}

/// <summary>Where an entry is: waiting in the queue, leading a batch, taken into a batch, or finished.</summary>
internal enum CombinerState
{
    Queued,
    Leading,
    Taken,
    Done,
}
