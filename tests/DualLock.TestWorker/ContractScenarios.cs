using System.Globalization;
using DualLock.MySql;
using DualLock.PostgreSql;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.TestWorker;

/// <summary>
/// The contract suite's second OS process: builds the same pipeline as the test process (through
/// <see cref="ContractPipelines"/>) and runs its half of the racy counter (<see cref="ContractCounter"/>).
/// </summary>
internal static partial class Scenarios
{
    static partial void RegisterContract(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios)
    {
        // contract-counter <provider> <prefix> <table> <resource> <id> <tasks> <iterations> <counterKey> <readyKey> <goKey>
        scenarios["contract-counter"] = ContractCounterAsync;
    }

    private static async Task<int> ContractCounterAsync(string[] args, CancellationToken cancellationToken)
    {
        var provider = args[0];
        var key = new LockKey(args[3], args[4]);
        var tasks = int.Parse(args[5], CultureInfo.InvariantCulture);
        var iterations = int.Parse(args[6], CultureInfo.InvariantCulture);
        RedisKey counter = args[7], ready = args[8], go = args[9];

        await using var connections = await ContractConnections.ConnectAsync(provider, cancellationToken);
        var targets = connections.Targets(args[1], args[2], inProcess: null);
        var pipeline = ContractPipelines.Build(provider, targets, lease: null, TimeSpan.FromSeconds(60));
        var db = connections.Redis.GetDatabase();

        // Both processes start on the test's signal, after each has connected, so their critical sections overlap.
        await db.StringSetAsync(ready, "1", TimeSpan.FromMinutes(5));
        while (!await db.KeyExistsAsync(go))
        {
            await Task.Delay(2, cancellationToken);
        }

        var done = await ContractCounter.RunAsync(pipeline, db, key, counter, tasks, iterations, cancellationToken);
        Console.WriteLine($"{{\"ok\":true,\"executions\":{done}}}");
        return 0;
    }
}

/// <summary>A short lease, for the lease-loss case: lost leases must be noticed within a fraction of a second.</summary>
public sealed record ContractLease(TimeSpan Lease, TimeSpan RenewalInterval, TimeSpan OperationTimeout);

/// <summary>Where a contract pipeline locks: a key prefix and table unique to one test, and the servers.</summary>
/// <param name="Prefix">Redis key prefix and named-lock prefix of this test (no ':' or braces).</param>
/// <param name="Table">The test table (<c>id</c>, <c>value</c>, <c>note</c>); the fence table is <c>{Table}_f</c>.</param>
/// <param name="MySql">The MySQL connection string.</param>
/// <param name="Postgres">The PostgreSQL connection string (the <c>postgres-*</c> providers).</param>
/// <param name="Redis">The main Redis.</param>
/// <param name="Redlock">The three independent Redlock masters, when the provider uses them.</param>
/// <param name="Cluster">The Redis Cluster, when the provider uses it.</param>
/// <param name="InProcess">The in-process stage this "process" shares between its pipelines.</param>
public sealed record ContractTargets(
    string Prefix,
    string Table,
    string MySql,
    string Postgres,
    IConnectionMultiplexer Redis,
    IReadOnlyList<IConnectionMultiplexer>? Redlock,
    IConnectionMultiplexer? Cluster,
    LockStage? InProcess)
{
    public string FenceTable => Table + "_f";
}

/// <summary>The pipeline of each contract provider, built the same way in both processes.</summary>
public static class ContractPipelines
{
    public const string InProcess = "in-process";
    public const string Redis = "redis";
    public const string Redlock = "redlock";
    public const string Cluster = "cluster";
    public const string RowLock = "row-lock";
    public const string NamedLock = "named-lock";
    public const string Dual = "dual";
    public const string Distributed = "distributed";
    public const string PostgresRowLock = "postgres-row-lock";
    public const string PostgresAdvisoryLock = "postgres-advisory-lock";
    public const string PostgresDual = "postgres-dual";
    public const string PostgresDistributed = "postgres-distributed";

    public static LockPipeline Build(string provider, ContractTargets targets, ContractLease? lease, TimeSpan waitTimeout)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var builder = new LockPipelineBuilder { Name = $"contract-{provider}", WaitTimeout = waitTimeout };
        switch (provider)
        {
            case InProcess:
                builder.AddStage(targets.InProcess ?? new InProcessLockStage());
                break;
            case Redis:
                builder.AddRedisLock(targets.Redis, RedisOptions(targets, lease));
                break;
            case Redlock:
                builder.AddRedlock(targets.Redlock ?? throw Missing(provider, "Redlock nodes"), RedlockOptions(targets, lease));
                break;
            case Cluster:
                builder.AddRedisLock(targets.Cluster ?? throw Missing(provider, "Redis Cluster"), RedisOptions(targets, lease));
                break;
            case RowLock:
                builder.AddMySqlTransaction(targets.MySql).AddMySqlRowLock(targets.Table, "id");
                break;
            case NamedLock:
                builder.AddMySqlNamedLock(targets.MySql, o => o.Prefix = targets.Prefix + ":").AddMySqlTransaction(targets.MySql);
                break;
            case Dual:
                builder.AddDual(
                    EmptyServices.Instance,
                    distributed: (b, _) => b.AddRedisLock(targets.Redis, RedisOptions(targets, lease)),
                    database: (b, _) => b.AddMySqlTransaction(targets.MySql).AddMySqlRowLock(targets.Table, "id"));
                break;
            case Distributed:
                builder.AddRedisLock(targets.Redis, RedisOptions(targets, lease))
                    .AddMySqlTransaction(targets.MySql, o =>
                    {
                        o.EnforceFencing = true;
                        o.FenceTable = targets.FenceTable;
                    });
                break;
            case PostgresRowLock:
                builder.AddPostgresTransaction(targets.Postgres).AddPostgresRowLock(targets.Table, "id");
                break;
            case PostgresAdvisoryLock:
                builder.AddPostgresTransaction(targets.Postgres).AddPostgresAdvisoryLock(o => o.Namespace = targets.Prefix);
                break;
            case PostgresDual:
                builder.AddDual(
                    EmptyServices.Instance,
                    distributed: (b, _) => b.AddRedisLock(targets.Redis, RedisOptions(targets, lease)),
                    database: (b, _) => b.AddPostgresTransaction(targets.Postgres).AddPostgresRowLock(targets.Table, "id"));
                break;
            case PostgresDistributed:
                builder.AddRedisLock(targets.Redis, RedisOptions(targets, lease))
                    .AddPostgresTransaction(targets.Postgres, o =>
                    {
                        o.EnforceFencing = true;
                        o.FenceTable = targets.FenceTable;
                    });
                break;
            default:
                throw new ArgumentException($"Unknown contract provider '{provider}'.", nameof(provider));
        }

        return builder.Build();
    }

    private static RedisLockOptions RedisOptions(ContractTargets targets, ContractLease? lease)
    {
        // A waiter re-checks (and renews its claim on the next turn) once a second instead of every 100 ms:
        // waiters still wake on the release message, and state a waiter that gave up leaves behind then
        // lives long enough to be seen every time, not only when the machine is fast.
        var options = new RedisLockOptions { KeyPrefix = targets.Prefix, RecheckInterval = TimeSpan.FromSeconds(1) };
        if (lease is not null)
        {
            options.Lease = lease.Lease;
            options.RenewalInterval = lease.RenewalInterval;
            options.OperationTimeout = lease.OperationTimeout;
        }

        return options;
    }

    private static RedlockOptions RedlockOptions(ContractTargets targets, ContractLease? lease)
    {
        var options = new RedlockOptions { KeyPrefix = targets.Prefix };
        if (lease is not null)
        {
            options.Lease = lease.Lease;
            options.RenewalInterval = lease.RenewalInterval;
            options.OperationTimeout = lease.OperationTimeout;
        }

        return options;
    }

    private static InvalidOperationException Missing(string provider, string what)
        => new($"The '{provider}' contract provider needs {what}, which were not connected.");

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}

/// <summary>The worker's connections, opened from the environment <c>scripts/services.sh env</c> prints.</summary>
internal sealed class ContractConnections : IAsyncDisposable
{
    private readonly List<IConnectionMultiplexer> _all = [];

    private ContractConnections(string mySql, string postgres)
    {
        MySql = mySql;
        Postgres = postgres;
    }

    public string MySql { get; }

    public string Postgres { get; }

    public IConnectionMultiplexer Redis { get; private set; } = null!;

    public IReadOnlyList<IConnectionMultiplexer>? Redlock { get; private set; }

    public IConnectionMultiplexer? Cluster { get; private set; }

    public static async Task<ContractConnections> ConnectAsync(string provider, CancellationToken cancellationToken)
    {
        var connections = new ContractConnections(
            Environment.GetEnvironmentVariable("ConnectionStrings__MySql") ?? string.Empty,
            Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? string.Empty);
        connections.Redis = await connections.ConnectAsync(Require("ConnectionStrings__Redis"));
        if (provider == ContractPipelines.Redlock)
        {
            var nodes = new List<IConnectionMultiplexer>();
            foreach (var endpoint in Require("DUALLOCK_REDLOCK_ENDPOINTS").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                nodes.Add(await connections.ConnectAsync(endpoint));
            }

            connections.Redlock = nodes;
        }
        else if (provider == ContractPipelines.Cluster)
        {
            connections.Cluster = await connections.ConnectAsync(Require("DUALLOCK_REDIS_CLUSTER"));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return connections;
    }

    public ContractTargets Targets(string prefix, string table, LockStage? inProcess)
        => new(prefix, table, MySql, Postgres, Redis, Redlock, Cluster, inProcess);

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _all)
        {
            await connection.DisposeAsync();
        }
    }

    private static string Require(string variable)
        => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set.");

    private async Task<IConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        _all.Add(connection);
        return connection;
    }
}

/// <summary>
/// A read-modify-write of a Redis counter with a real gap between the read and the write: only the
/// lock keeps two writers apart, so a lock that does not exclude loses increments.
/// </summary>
public static class ContractCounter
{
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(2);

    /// <summary>Runs <paramref name="tasks"/> x <paramref name="iterations"/> increments; returns how many ran.</summary>
    public static async Task<long> RunAsync(
        LockPipeline pipeline, IDatabase db, LockKey key, RedisKey counter, int tasks, int iterations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(db);
        long done = 0;
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(
            async () =>
            {
                for (var i = 0; i < iterations; i++)
                {
                    await pipeline.ExecuteAsync(
                        key,
                        async (_, ct) =>
                        {
                            var value = (long?)await db.StringGetAsync(counter) ?? 0;
                            await Task.Delay(Gap, ct);
                            await db.StringSetAsync(counter, value + 1);
                        },
                        cancellationToken: cancellationToken);
                    Interlocked.Increment(ref done);
                }
            },
            cancellationToken)));
        return done;
    }
}
