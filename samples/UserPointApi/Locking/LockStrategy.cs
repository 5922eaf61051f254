namespace UserPointApi.Locking;

/// <summary>How a write on a user's points is protected; chosen per endpoint by configuration.</summary>
public enum LockStrategy
{
    /// <summary>No lock, racy read-modify-write: the negative control that must lose updates.</summary>
    None,

    /// <summary>In-process lock, one pipeline shared by every operation configured so: correct on one instance only (a negative control with two).</summary>
    Local,

    /// <summary>MySQL transaction with <c>SELECT ... FOR UPDATE</c> on the user's point row.</summary>
    Pessimistic,

    /// <summary>Redis lock around a MySQL transaction whose commit enforces the fencing token.</summary>
    Distributed,

    /// <summary>Redlock quorum over independent Redis masters (<c>ConnectionStrings:Redlock</c>) around a fenced MySQL transaction.</summary>
    Redlock,

    /// <summary>Redis lock outside, transaction + row lock inside; falls back to the row lock when Redis is down.</summary>
    Dual,

    /// <summary>MySQL <c>GET_LOCK</c> on its own connection around the transaction.</summary>
    Named,

    /// <summary>No lock: compare-and-set on the row's version, retried within the wait timeout.</summary>
    Optimistic,

    /// <summary>No lock: one conditional <c>UPDATE ... SET amount = amount + @x</c>; the physical limit.</summary>
    Atomic,

    /// <summary>Dual locking with hot-key combining: the charges and uses queued on one user run in one transaction (see <c>CombinedPointWrites</c>); refunds and transfers run as plain dual.</summary>
    Combined,
}
