namespace DualLock;

/// <summary>
/// What a stage does, declared by the stage so <see cref="LockPipelineBuilder.Build"/> can refuse
/// compositions that cannot be safe (a lock released before the transaction it protects commits, a
/// row lock with no transaction, a fallback with no lock inside it).
/// </summary>
[Flags]
#pragma warning disable CA1711 // "Traits" is the domain word; this is not a flags-suffix mistake
public enum LockStageTraits
#pragma warning restore CA1711
{
    /// <summary>Nothing declared: the stage is not a lock as far as the composition checks know.</summary>
    None = 0,

    /// <summary>The stage serialises the holders of a key: while one holds it, no other does.</summary>
    Excludes = 1,

    /// <summary>The stage opens a database transaction that the stages inside it and the work use, and ends it on release.</summary>
    OpensTransaction = 2,

    /// <summary>
    /// The stage's lock lives in the transaction an outer stage opened and ends with it (a row lock),
    /// so it needs such a stage outside it and is released by the commit, not before it.
    /// </summary>
    HeldByTransaction = 4,

    /// <summary>The stage issues a fencing token per acquisition.</summary>
    IssuesFencingToken = 8,

    /// <summary>The stage enforces the fencing token an outer stage issued.</summary>
    EnforcesFencingToken = 16,
}
