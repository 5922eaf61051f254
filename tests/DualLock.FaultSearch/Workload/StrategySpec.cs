namespace DualLock.FaultSearch.Workload;

/// <summary>What one strategy under search promises, so the checker knows what to hold it to.</summary>
/// <param name="Name">Its name in the history, the ledger and a finding's code.</param>
/// <param name="Permits">How many holders of a key may be inside at once (1: exclusive; readers are not counted).</param>
/// <param name="RedisExclusion">Its exclusion is only a Redis key, so deleting that key (a fault) excuses the holders inside.</param>
/// <param name="TokensOrdered">Its fencing tokens must strictly increase per key in commit order.</param>
/// <param name="Transaction">The work runs in the lock's MySQL transaction (the ledger row commits with it).</param>
/// <param name="Control">A negative control without a lock: the checker must find it violating, or the oracle is unproven.</param>
/// <param name="FallsBack">Its Redis part is optional (ContinueIfUnavailable): a Redis that refuses or fails must not fail the call.</param>
/// <param name="Postgres">Its transaction (and the ledger row it commits) is in PostgreSQL, not MariaDB.</param>
/// <param name="HandsOff">Its Redis lock stage hands a lease to local callers, with tokens that name the lease (the Redis fence times 64, plus one per hand-off).</param>
internal sealed record StrategySpec(string Name, int Permits, bool RedisExclusion, bool TokensOrdered, bool Transaction, bool Control = false, bool FallsBack = false, bool HandsOff = false, bool Postgres = false)
{
    public const string Redis = "redis";
    public const string Dual = "dual";
    public const string Distributed = "distributed";
    public const string Pessimistic = "pessimistic";
    public const string NamedLock = "named-lock";
    public const string Redlock = "redlock";
    public const string Semaphore = "semaphore";
    public const string ReaderWriter = "reader-writer";
    public const string MultiKey = "multi-key";
    public const string Combiner = "combiner";
    public const string None = "none";
    public const string PostgresDual = "postgres-dual";
    public const string PostgresDistributed = "postgres-distributed";
    public const string PostgresPessimistic = "postgres-pessimistic";

    public const int SemaphorePermits = 2;

    public static readonly IReadOnlyList<StrategySpec> All =
    [
        new(Redis, 1, RedisExclusion: true, TokensOrdered: true, Transaction: false, HandsOff: true),
        new(Dual, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true, FallsBack: true),
        new(Distributed, 1, RedisExclusion: false, TokensOrdered: true, Transaction: true, HandsOff: true),
        new(Pessimistic, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true),
        new(NamedLock, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true),
        new(Redlock, 1, RedisExclusion: true, TokensOrdered: true, Transaction: false),
        new(Semaphore, SemaphorePermits, RedisExclusion: true, TokensOrdered: false, Transaction: false),
        new(ReaderWriter, 1, RedisExclusion: true, TokensOrdered: false, Transaction: false),
        new(MultiKey, 1, RedisExclusion: true, TokensOrdered: false, Transaction: false),
        new(Combiner, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true, FallsBack: true),
        new(None, 1, RedisExclusion: false, TokensOrdered: false, Transaction: false, Control: true),
        new(PostgresDual, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true, FallsBack: true, Postgres: true),
        new(PostgresDistributed, 1, RedisExclusion: false, TokensOrdered: true, Transaction: true, HandsOff: true, Postgres: true),
        new(PostgresPessimistic, 1, RedisExclusion: false, TokensOrdered: false, Transaction: true, Postgres: true),
    ];

    public static StrategySpec Find(string name)
        => All.FirstOrDefault(s => s.Name == name)
           ?? throw new ArgumentException($"Unknown strategy '{name}'; known: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));

    /// <summary>The lock key of hot key <paramref name="index"/> (each strategy has its own keys and rows).</summary>
    public LockKey Key(int index) => new("fs-" + Name, $"{Name}-k{index}");

    /// <summary>The witness's and the ledger's name of a key.</summary>
    public static string KeyName(LockKey key) => key.Id;
}
