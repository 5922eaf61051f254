namespace DualLock.IntegrationTests.Contract;

/// <summary>The rules every stage's contract suite checks; each provider runs a case or says why it does not apply.</summary>
public enum ContractCase
{
    /// <summary>Two OS processes, one key, a racy counter only the lock protects: the count is exact.</summary>
    CrossProcessExclusion,

    /// <summary>A zero wait tries once: refused at once while held elsewhere, acquired when free.</summary>
    ZeroWait,

    /// <summary>A wait that ends throws <see cref="LockTimeoutException"/> naming the resource (or reports not acquired); the holder is unaffected.</summary>
    Timeout,

    /// <summary>Cancelling a waiter throws promptly and leaves nothing behind.</summary>
    CancelWhileWaiting,

    /// <summary>Cancelling the caller reaches the work's token; every stage is released.</summary>
    CancelWhileHolding,

    /// <summary>A lease lost behind the holder's back fires the work's token and ends in <see cref="LockLeaseLostException"/>.</summary>
    LeaseLoss,

    /// <summary>Work that throws releases every stage and rolls back the transaction.</summary>
    ReleaseOnThrow,

    /// <summary>Thousands of distinct keys leave no per-key state behind.</summary>
    NoLeakedState,

    /// <summary>Key sets given in opposite orders, on two pipelines, with single-key callers: no deadlock, no timeout, each key held by one at a time.</summary>
    MultiKeyCanonicalOrder,

    /// <summary>A key set with one key held elsewhere times out within its one wait and leaves none of its keys held.</summary>
    MultiKeyAllOrNone,

    /// <summary>Each key of a set gets its own fencing token, increasing with every holder of that key.</summary>
    MultiKeyFencing,

    /// <summary>Callers of one process queued behind a holder (handed the lock without a new acquire) each get a higher token than the holder before, for a single key and for each key of a set.</summary>
    HandoffFencing,
}

/// <summary>Marks a test as the check of one <see cref="ContractCase"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractCaseAttribute(ContractCase contractCase) : Attribute
{
    public ContractCase Case { get; } = contractCase;
}

/// <summary>Says, on a provider's suite, why a case is not generated for it (instead of a skip or a silent pass).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class NotApplicableAttribute(ContractCase contractCase, string reason) : Attribute
{
    public ContractCase Case { get; } = contractCase;

    public string Reason { get; } = reason;
}

/// <summary>Who contends with the holder: another caller of the same pipeline (the stage's local queue) or another pipeline (like another process).</summary>
public enum Contender
{
    SamePipeline,
    OtherPipeline,
}
