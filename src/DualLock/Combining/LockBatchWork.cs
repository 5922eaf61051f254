namespace DualLock;

/// <summary>
/// The work a <see cref="LockCombiner{TItem, TResult}"/> runs under the lock for a batch of items:
/// it reports one outcome per item with <see cref="LockBatch{TItem, TResult}.SetResult"/> or
/// <see cref="LockBatch{TItem, TResult}.SetException"/>.
/// </summary>
/// <typeparam name="TItem">What a caller asks for.</typeparam>
/// <typeparam name="TResult">What a caller gets back.</typeparam>
/// <param name="context">The lock context of the one execution that holds the lock for the batch.</param>
/// <param name="batch">The items, in arrival order; valid only during the call.</param>
/// <param name="cancellationToken">Fires when the lock is lost; not when one caller gives up (its item is already running).</param>
/// <returns>A task that completes when every item has its outcome.</returns>
/// <remarks>
/// Throwing fails every item of the batch with that exception (the pipeline rolls the critical
/// section back as a whole, so none of them was applied); report an item's own failure with
/// <see cref="LockBatch{TItem, TResult}.SetException"/> instead.
/// </remarks>
public delegate ValueTask LockBatchWork<TItem, TResult>(LockContext context, LockBatch<TItem, TResult> batch, CancellationToken cancellationToken);
