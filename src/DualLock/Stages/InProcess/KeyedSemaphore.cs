namespace DualLock;

/// <summary>The in-process lock of one key while someone holds or waits for it (an entry of a <see cref="KeyedRegistry{TEntry}"/>).</summary>
internal sealed class KeyedSemaphore(string key) : KeyedEntry(key)
{
    /// <summary>Creates the entry of a key.</summary>
    public static readonly Func<string, KeyedSemaphore> Create = static key => new KeyedSemaphore(key);

    // Async waiters of SemaphoreSlim are served first come, first served, and a release hands
    // the slot to the oldest waiter directly, so a caller arriving later cannot barge ahead.
    public SemaphoreSlim Semaphore { get; } = new(1, 1);
}
