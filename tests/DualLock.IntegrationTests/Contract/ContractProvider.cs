using System.Globalization;
using Dapper;
using DualLock.IntegrationTests.MySql;
using DualLock.IntegrationTests.Redis;
using DualLock.MySql;
using DualLock.TestWorker;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Contract;

/// <summary>What a provider's pipeline locks with, so the base knows what to create, break, probe and clean up.</summary>
[Flags]
public enum ContractBackends
{
    None = 0,

    /// <summary>Lock keys in the main Redis.</summary>
    MainRedis = 1,

    /// <summary>Lock keys on the three Redlock masters.</summary>
    Redlock = 2,

    /// <summary>Lock keys in the Redis Cluster.</summary>
    Cluster = 4,

    /// <summary>A transaction on the test table (the work writes its mark there).</summary>
    Transaction = 8,

    /// <summary>A row lock: the table needs one row per key.</summary>
    RowLock = 16,

    /// <summary>A <c>GET_LOCK</c> named lock.</summary>
    NamedLock = 32,

    /// <summary>Fencing tokens recorded in the fence table.</summary>
    Fence = 64,

    /// <summary>The transaction, its rows and the fence table are in PostgreSQL (else in MariaDB).</summary>
    Postgres = 128,

    /// <summary>A <c>pg_advisory_xact_lock</c> in the transaction.</summary>
    AdvisoryLock = 256,
}

/// <summary>
/// One stage (or composition) under the contract suite: builds its pipelines on the real servers for a
/// key prefix and table unique to one test, breaks its lease, and probes the per-key state it leaves.
/// </summary>
public abstract partial class ContractProvider : IAsyncDisposable
{
    /// <summary>A lease short enough that a lost one is noticed within a fraction of a second.</summary>
    /// <remarks>Renewal every 400 ms, calls bounded by 200 ms: max(renewal, bound) + bound stays well under the lease.</remarks>
    public static readonly ContractLease ShortLease = new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(200));

    private static readonly Lazy<Task<IConnectionMultiplexer[]>> RedlockNodes = new(async () =>
        await Task.WhenAll(Servers.RedlockEndpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(async e => (IConnectionMultiplexer)await RedisTestKit.ConnectAsync(e))));

    private static readonly Lazy<Task<IConnectionMultiplexer>> ClusterConnection = new(async () =>
    {
        var cluster = await RedisTestKit.ConnectAsync(Servers.RedisCluster);
        return await RedisTestKit.EventuallyAsync(() => Task.FromResult(cluster.IsConnected), TimeSpan.FromSeconds(10))
            ? cluster
            : throw new InvalidOperationException("The Redis Cluster did not connect.");
    });

    private readonly InProcessLockStage _inProcess = new();
    private ContractTargets? _targets;
    private ContractTable? _table;

    protected ContractProvider(string name, ContractBackends backends, string? leasedStage = null, int leakCheckKeys = 10_000)
    {
        Name = name;
        Backends = backends;
        LeasedStage = leasedStage;
        LeakCheckKeys = leakCheckKeys;
    }

    /// <summary>Gets the provider's name, also the worker's argument (<see cref="ContractPipelines"/>).</summary>
    public string Name { get; }

    public ContractBackends Backends { get; }

    /// <summary>Gets the stage whose lease the lease-loss case breaks, or null when nothing has a lease.</summary>
    public string? LeasedStage { get; }

    /// <summary>Gets how many distinct keys the leak case runs.</summary>
    public int LeakCheckKeys { get; }

    /// <summary>Gets this test's Redis key prefix and named-lock prefix.</summary>
    public string Prefix { get; } = "dlc" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Gets the test table's name, or "-" when the provider uses none.</summary>
    public string TableName => _table?.Name ?? "-";

    public bool HasTransaction => Backends.HasFlag(ContractBackends.Transaction);

    private ContractTargets Targets => _targets ?? throw new InvalidOperationException("InitializeAsync has not run.");

    private bool UsesPostgres => Backends.HasFlag(ContractBackends.Postgres);

    private ContractTable Table => _table ?? throw new InvalidOperationException("The provider has no transaction, so no table.");

    private bool UsesRedis => (Backends & (ContractBackends.MainRedis | ContractBackends.Redlock | ContractBackends.Cluster)) != 0;

    public async ValueTask InitializeAsync()
    {
        var redis = await Servers.SharedRedisAsync(); // the counter of the cross-process case lives here for every provider
        var redlock = Backends.HasFlag(ContractBackends.Redlock) ? await RedlockNodes.Value : null;
        var cluster = Backends.HasFlag(ContractBackends.Cluster) ? await ClusterConnection.Value : null;
        if (HasTransaction)
        {
            _table = await ContractTable.CreateAsync(UsesPostgres);
        }

        _targets = new ContractTargets(
            Prefix, TableName, HasTransaction && !UsesPostgres ? Servers.MySql : string.Empty, UsesPostgres ? Servers.Postgres : string.Empty, redis, redlock, cluster, _inProcess);
    }

    /// <summary>Builds a pipeline with its own stage instances (but this "process's" in-process stage), like another instance of the app.</summary>
    public LockPipeline CreatePipeline(ContractLease? lease = null, TimeSpan? wait = null)
        => ContractPipelines.Build(Name, Targets, lease, wait ?? TimeSpan.FromSeconds(30));

    /// <summary>A key with a distinctive id (so a message that leaks it is caught), ready to lock.</summary>
    public async Task<LockKey> NewKeyAsync()
    {
        var key = new LockKey("contract", Guid.NewGuid().ToString("N")[..16]);
        await PrepareKeysAsync([key]);
        return key;
    }

    /// <summary>Creates what the keys need before they can be locked (the row a row lock selects).</summary>
    public async Task PrepareKeysAsync(IReadOnlyList<LockKey> keys)
    {
        if (!Backends.HasFlag(ContractBackends.RowLock))
        {
            return;
        }

        await Table.InsertAsync(keys);
    }

    /// <summary>Writes a mark for the key through the work's transaction (value + 1, note); nothing without a transaction.</summary>
    public async ValueTask WriteMarkAsync(LockContext context, string note)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!HasTransaction)
        {
            return;
        }

        await Table.WriteMarkAsync(context, note);
    }

    /// <summary>Gets the committed note of the key (what a committed mark wrote).</summary>
    public Task<string?> CommittedNoteAsync(LockKey key) => Table.CommittedNoteAsync(key);

    /// <summary>Gets the number of committed marks of one key.</summary>
    public Task<long> CommittedMarksAsync(LockKey key) => Table.CommittedMarksAsync(key);

    /// <summary>Gets the number of committed marks over all keys.</summary>
    public Task<long> CommittedMarksAsync() => Table.CommittedMarksAsync(null);

    /// <summary>Redis name of the key's lock, as the Redis stages document it: <c>{prefix}:{resource:id}</c>.</summary>
    public RedisKey LockName(LockKey key) => $"{Prefix}:{{{key}}}";

    /// <summary>
    /// Takes the lock away from its holder behind its back: deletes the lock key (on a majority of the
    /// Redlock nodes), or kills the session that holds the named lock (as a dropped connection would).
    /// </summary>
    public async Task BreakLeaseAsync(LockKey key)
    {
        if (Backends.HasFlag(ContractBackends.NamedLock))
        {
            await using var connection = await Servers.OpenMySqlAsync();
            var session = await connection.ExecuteScalarAsync<long?>("SELECT IS_USED_LOCK(@name)", new { name = $"{Prefix}:{key}" });
            Assert.True(session is not null, $"The named lock of {key} was not held: nothing to take away.");
            await connection.ExecuteAsync($"KILL CONNECTION {session!.Value.ToString(CultureInfo.InvariantCulture)}");
            return;
        }

        var deleted = 0;
        if (Targets.Redlock is { } nodes)
        {
            foreach (var node in nodes.Take((nodes.Count / 2) + 1))
            {
                deleted += await node.GetDatabase().KeyDeleteAsync(LockName(key)) ? 1 : 0;
            }

            Assert.Equal((nodes.Count / 2) + 1, deleted);
            return;
        }

        var db = (Targets.Cluster ?? Targets.Redis).GetDatabase();
        Assert.True(await db.KeyDeleteAsync(LockName(key)), $"The lock key {LockName(key)} was not there to delete: the holder did not hold it in Redis.");
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_targets is null)
        {
            return;
        }

        foreach (var server in RedisServers(includeMain: true))
        {
            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(pattern: Prefix + "*", pageSize: 1000))
            {
                keys.Add(key);
            }

            foreach (var chunk in keys.Chunk(500))
            {
                // One slot per command on a cluster node: delete key by key there.
                await Task.WhenAll(chunk.Select(k => server.Multiplexer.GetDatabase().KeyDeleteAsync(k)));
            }
        }

        if (_table is not null)
        {
            await _table.DisposeAsync(); // with the fence table
        }
    }

    private IEnumerable<IServer> RedisServers(bool includeMain)
    {
        var connections = new List<IConnectionMultiplexer>();
        if (includeMain || Backends.HasFlag(ContractBackends.MainRedis))
        {
            connections.Add(Targets.Redis);
        }

        connections.AddRange(Targets.Redlock ?? []);
        if (Targets.Cluster is { } cluster)
        {
            connections.Add(cluster);
        }

        return connections.SelectMany(c => c.GetServers()).Where(s => s.IsConnected && !s.IsReplica);
    }
}
