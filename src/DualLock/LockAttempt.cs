namespace DualLock;

/// <summary>The outcome of <see cref="ILockStrategy.ExecuteCoreAsync"/> and of the <c>TryExecuteAsync</c> calls of <see cref="LockStrategyExtensions"/>.</summary>
/// <typeparam name="TResult">What the work returns.</typeparam>
/// <param name="Acquired"><see langword="true"/> when every stage was acquired and the work ran.</param>
/// <param name="Result">What the work returned; <see langword="default"/> when <paramref name="Acquired"/> is <see langword="false"/>.</param>
public readonly record struct LockAttempt<TResult>(bool Acquired, TResult? Result);
