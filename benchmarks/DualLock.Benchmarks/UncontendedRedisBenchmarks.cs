using BenchmarkDotNet.Attributes;
using DualLock.Redis;
using Medallion.Threading.Redis;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>
/// One uncontended acquire + release against the local redis-server: DualLock, the two peers, and
/// three baselines (two PINGs = the two-round-trip limit; a raw SET NX PX + compare-and-delete; DualLock's
/// own acquire and release scripts sent alone, the floor of its protocol: fencing token and turn reservation in Lua).
/// </summary>
[MemoryDiagnoser]
public class UncontendedRedisBenchmarks
{
    private const string CompareAndDelete = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
    private ConnectionMultiplexer _redis = null!;
    private IDatabase _db = null!;
    private RedLockFactory _redLock = null!;
    private RedisDistributedLock _distributedLock = null!;
    private string _key = null!;
    private LockPipeline _dualLock = null!;
    private LockKey _dualLockKey;
    private RedisKey[] _scriptKeys = null!;
    private RedisKey[] _scriptLockKey = null!;
    private RedisValue _scriptChannel;

    [GlobalSetup]
    public void Setup()
    {
        _redis = ConnectionMultiplexer.Connect(RepositoryRoot.Env("ConnectionStrings__Redis"));
        _db = _redis.GetDatabase();
        _redLock = RedLockFactory.Create([new RedLockMultiplexer(_redis)]);
        _key = $"bench:uncontended:{Guid.NewGuid():N}";
        _distributedLock = new RedisDistributedLock(_key + ":madelson", _db);
        _dualLock = new LockPipelineBuilder().AddRedisLock(_redis).Build();
        _dualLockKey = new LockKey("bench", Guid.NewGuid().ToString("N"));
        var root = $"bench:scripts:{{{Guid.NewGuid():N}}}";
        _scriptKeys = [root, root + ":fence", root + ":next"];
        _scriptLockKey = [root];
        _scriptChannel = root + ":released";
        var server = _redis.GetServer(_redis.GetEndPoints()[0]);
        server.ScriptLoad(RedisLockScripts.Acquire);
        server.ScriptLoad(RedisLockScripts.Release);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _redLock.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, Description = "two PINGs (limit)")]
    public async Task TwoPings()
    {
        await _db.PingAsync();
        await _db.PingAsync();
    }

    [Benchmark(Description = "raw SET NX PX + compare-and-delete")]
    public async Task RawSetNxAndDelete()
    {
        var token = Guid.NewGuid().ToString("N");
        if (!await _db.StringSetAsync(_key + ":raw", token, TimeSpan.FromSeconds(30), When.NotExists))
        {
            throw new InvalidOperationException("raw lock not acquired");
        }

        await _db.ScriptEvaluateAsync(CompareAndDelete, [(RedisKey)(_key + ":raw")], [token]);
    }

    [Benchmark(Description = "DualLock's two scripts alone (floor)")]
    public async Task DualLockScriptsAlone()
    {
        var token = Guid.NewGuid().ToString("N");
        var acquired = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisLockScripts.AcquireHash, _scriptKeys, [token, "10000", "bench", "200"]))!;
        if ((long)acquired[0] != 1)
        {
            throw new InvalidOperationException("script lock not acquired");
        }

        await _db.ScriptEvaluateAsync(RedisLockScripts.ReleaseHash, _scriptLockKey, [token, _scriptChannel]);
    }

    [Benchmark(Description = "DualLock Redis stage")]
    public ValueTask DualLockRedis() => _dualLock.ExecuteAsync(_dualLockKey, static (_, _) => ValueTask.CompletedTask);

    [Benchmark(Description = "DistributedLock.Redis")]
    public async Task DistributedLockRedis()
    {
        await using var handle = await _distributedLock.AcquireAsync(TimeSpan.FromSeconds(2));
    }

    [Benchmark(Description = "RedLock.net (single endpoint)")]
    public async Task RedLockNet()
    {
        await using var redLock = await _redLock.CreateLockAsync(_key + ":redlock", TimeSpan.FromSeconds(30));
        if (!redLock.IsAcquired)
        {
            throw new InvalidOperationException("RedLock.net lock not acquired");
        }
    }
}
