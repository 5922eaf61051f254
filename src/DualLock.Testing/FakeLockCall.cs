namespace DualLock.Testing;

/// <summary>One call a <see cref="FakeLockStrategy"/> received, and how it ended.</summary>
public sealed class FakeLockCall
{
    internal FakeLockCall(int number, LockKeySet keys, TimeSpan? requestedWait, TimeSpan waitTimeout, bool throwOnTimeout, FakeLockFailure? failure)
    {
        Number = number;
        Keys = keys;
        RequestedWait = requestedWait;
        WaitTimeout = waitTimeout;
        ThrowOnTimeout = throwOnTimeout;
        Failure = failure;
    }

    /// <summary>Gets the call's number, starting at 1, in the order the calls started.</summary>
    public int Number { get; }

    /// <summary>Gets the keys of the call, distinct and in canonical order.</summary>
    public LockKeySet Keys { get; }

    /// <summary>Gets the wait the caller passed; <see langword="null"/> when it used the strategy's configured wait.</summary>
    public TimeSpan? RequestedWait { get; }

    /// <summary>Gets the wait the call ran with: <see cref="RequestedWait"/>, else <see cref="FakeLockStrategy.WaitTimeout"/>.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets a value indicating whether the caller asked for a timeout to throw (<c>ExecuteAsync</c>) rather than be reported (<c>TryExecuteAsync</c>).</summary>
    public bool ThrowOnTimeout { get; }

    /// <summary>Gets the failure the fake applied to this call, or <see langword="null"/>.</summary>
    public FakeLockFailure? Failure { get; }

    /// <summary>Gets the fencing tokens the call issued, one per key in <see cref="Keys"/> order; empty unless <see cref="FakeLockStrategy.IssueFencingTokens"/> was called.</summary>
    public IReadOnlyList<long> FencingTokens { get; internal set; } = [];

    /// <summary>Gets a value indicating whether the work was started.</summary>
    public bool WorkRan { get; internal set; }

    /// <summary>Gets a value indicating whether the call returned normally after running the work (a reported timeout did not).</summary>
    public bool Succeeded { get; internal set; }

    /// <summary>Gets what the call threw (a lock exception, or the work's own failure), or <see langword="null"/>.</summary>
    public Exception? Exception { get; internal set; }
}
