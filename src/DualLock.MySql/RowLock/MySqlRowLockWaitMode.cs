namespace DualLock.MySql;

/// <summary>How the row lock stage bounds its wait for a row another transaction holds.</summary>
public enum MySqlRowLockWaitMode
{
    /// <summary>
    /// The server waits: <c>SET SESSION innodb_lock_wait_timeout = n; SELECT ... FOR UPDATE</c> in one
    /// round trip, where <c>n</c> is the pipeline's remaining wait rounded up to whole seconds (the
    /// variable's unit, at least 1); when the remaining wait ends first the statement is interrupted from
    /// the client (MySqlConnector sends <c>KILL QUERY</c> on a second connection), so a wait of 150 ms ends
    /// after about 150 ms, not the server's 1 s. Waiters queue in the server and wake as soon as the row is
    /// released. A remaining wait of zero uses <c>NOWAIT</c>.
    /// </summary>
    LockWaitTimeout = 0,

    /// <summary>
    /// <c>SELECT ... FOR UPDATE NOWAIT</c>, retried with jittered backoff until the pipeline's wait runs
    /// out: honours sub-second waits exactly, at the price of polling under contention. On a server with
    /// <c>innodb_rollback_on_timeout=ON</c> a miss rolls back the whole transaction, so there the first miss
    /// is a <see cref="LockTimeoutException"/> (the stage reads the option once, at its first miss).
    /// </summary>
    NoWaitRetry = 1,
}
