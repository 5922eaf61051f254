using DualLock.TestWorker;

namespace DualLock.IntegrationTests.Contract;

// One provider and one suite per stage (or documented composition). The base class a suite derives from
// is the contract it claims; a case it does not claim carries [NotApplicable] with the reason.

public sealed class InProcessContractProvider() : ContractProvider(ContractPipelines.InProcess, ContractBackends.None);

public sealed class RedisContractProvider() : ContractProvider(ContractPipelines.Redis, ContractBackends.MainRedis, leasedStage: "redis");

public sealed class RedlockContractProvider() : ContractProvider(ContractPipelines.Redlock, ContractBackends.Redlock, leasedStage: "redlock");

public sealed class RedisClusterContractProvider() : ContractProvider(ContractPipelines.Cluster, ContractBackends.Cluster, leasedStage: "redis");

/// <summary>Transaction + row lock; 1,000 keys in the leak case (a transaction per key is the cost).</summary>
public sealed class MySqlRowLockContractProvider() : ContractProvider(
    ContractPipelines.RowLock, ContractBackends.Transaction | ContractBackends.RowLock, leakCheckKeys: 1_000);

/// <summary>Named lock outside a transaction; 1,000 keys in the leak case (two connections per key).</summary>
public sealed class MySqlNamedLockContractProvider() : ContractProvider(
    ContractPipelines.NamedLock, ContractBackends.NamedLock | ContractBackends.Transaction, leasedStage: "mysql-named-lock", leakCheckKeys: 1_000);

/// <summary>Redis outside with fallback, transaction + row lock inside; 1,000 keys in the leak case.</summary>
public sealed class DualContractProvider() : ContractProvider(
    ContractPipelines.Dual, ContractBackends.MainRedis | ContractBackends.Transaction | ContractBackends.RowLock, leasedStage: "redis", leakCheckKeys: 1_000);

/// <summary>Redis + transaction with EnforceFencing; 1,000 keys in the leak case.</summary>
public sealed class DistributedContractProvider() : ContractProvider(
    ContractPipelines.Distributed, ContractBackends.MainRedis | ContractBackends.Transaction | ContractBackends.Fence, leasedStage: "redis", leakCheckKeys: 1_000);

/// <summary>PostgreSQL transaction + row lock (<c>SELECT ... FOR UPDATE</c>); 1,000 keys in the leak case.</summary>
public sealed class PostgresRowLockContractProvider() : ContractProvider(
    ContractPipelines.PostgresRowLock, ContractBackends.Postgres | ContractBackends.Transaction | ContractBackends.RowLock, leakCheckKeys: 1_000);

/// <summary>PostgreSQL transaction + <c>pg_advisory_xact_lock</c>; 1,000 keys in the leak case.</summary>
public sealed class PostgresAdvisoryLockContractProvider() : ContractProvider(
    ContractPipelines.PostgresAdvisoryLock, ContractBackends.Postgres | ContractBackends.Transaction | ContractBackends.AdvisoryLock, leakCheckKeys: 1_000);

/// <summary>Redis outside with fallback, PostgreSQL transaction + row lock inside; 1,000 keys in the leak case.</summary>
public sealed class PostgresDualContractProvider() : ContractProvider(
    ContractPipelines.PostgresDual,
    ContractBackends.MainRedis | ContractBackends.Postgres | ContractBackends.Transaction | ContractBackends.RowLock,
    leasedStage: "redis",
    leakCheckKeys: 1_000);

/// <summary>Redis + PostgreSQL transaction with EnforceFencing; 1,000 keys in the leak case.</summary>
public sealed class PostgresDistributedContractProvider() : ContractProvider(
    ContractPipelines.PostgresDistributed,
    ContractBackends.MainRedis | ContractBackends.Postgres | ContractBackends.Transaction | ContractBackends.Fence,
    leasedStage: "redis",
    leakCheckKeys: 1_000);

[NotApplicable(ContractCase.LeaseLoss, "the in-process lock has no lease: it is held until released, nothing can take it away")]
[NotApplicable(ContractCase.MultiKeyFencing, "the in-process lock issues no fencing token")]
[NotApplicable(ContractCase.HandoffFencing, "the in-process lock issues no fencing token")]
public sealed class InProcessLockContractTests : LockContractTests<InProcessContractProvider>
{
    /// <summary>The negative control of the cross-process case: proves the racy counter does lose updates without a cross-process lock.</summary>
    [Fact]
    [ContractCase(ContractCase.CrossProcessExclusion)]
    public async Task ExecuteAsync_RacyCounterInTwoProcesses_LosesUpdatesNegativeControl()
    {
        var (final, expected) = await RunCounterInTwoProcessesAsync();

        Assert.True(final < expected, $"An in-process lock cannot exclude another process: the counter should have lost updates, but it is {final} of {expected}.");
    }
}

public sealed class RedisLockContractTests : LeasedLockContractTests<RedisContractProvider>;

public sealed class RedlockContractTests : LeasedLockContractTests<RedlockContractProvider>;

public sealed class RedisClusterLockContractTests : LeasedLockContractTests<RedisClusterContractProvider>;

[NotApplicable(ContractCase.LeaseLoss, "the row lock has no lease: it lasts as long as its transaction, and a dropped connection rolls that back (the work's next statement fails)")]
[NotApplicable(ContractCase.MultiKeyFencing, "the row lock issues no fencing token: the row itself orders the writers")]
[NotApplicable(ContractCase.HandoffFencing, "the row lock issues no fencing token: the row itself orders the writers")]
public sealed class MySqlRowLockContractTests : ExclusiveLockContractTests<MySqlRowLockContractProvider>;

// When the named lock signals lease loss, derive this suite
// from LeasedLockContractTests and drop the attribute: the provider already breaks the lease by killing the
// session that holds GET_LOCK, and names the stage.
[NotApplicable(ContractCase.LeaseLoss, "the named lock learns a lost session before the commit (the commit is refused and LeaseLost fires, see MySqlNamedLockLossTests), not while the work runs: nothing polls its idle session")]
[NotApplicable(ContractCase.MultiKeyFencing, "the named lock issues no fencing token")]
[NotApplicable(ContractCase.HandoffFencing, "the named lock issues no fencing token")]
public sealed class MySqlNamedLockContractTests : ExclusiveLockContractTests<MySqlNamedLockContractProvider>;

public sealed class DualLockContractTests : LeasedLockContractTests<DualContractProvider>;

public sealed class DistributedLockContractTests : LeasedLockContractTests<DistributedContractProvider>;

[NotApplicable(ContractCase.LeaseLoss, "the row lock has no lease: it lasts as long as its transaction, and a dropped connection rolls that back (the work's next statement fails)")]
[NotApplicable(ContractCase.MultiKeyFencing, "the row lock issues no fencing token: the row itself orders the writers")]
[NotApplicable(ContractCase.HandoffFencing, "the row lock issues no fencing token: the row itself orders the writers")]
public sealed class PostgresRowLockContractTests : ExclusiveLockContractTests<PostgresRowLockContractProvider>;

[NotApplicable(ContractCase.LeaseLoss, "the advisory lock is transaction-scoped: it lasts as long as its transaction, and a dropped connection ends both (the work's next statement fails, nothing commits)")]
[NotApplicable(ContractCase.MultiKeyFencing, "the advisory lock issues no fencing token")]
[NotApplicable(ContractCase.HandoffFencing, "the advisory lock issues no fencing token")]
public sealed class PostgresAdvisoryLockContractTests : ExclusiveLockContractTests<PostgresAdvisoryLockContractProvider>;

public sealed class PostgresDualLockContractTests : LeasedLockContractTests<PostgresDualContractProvider>;

public sealed class PostgresDistributedLockContractTests : LeasedLockContractTests<PostgresDistributedContractProvider>;
