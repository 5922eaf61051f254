using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DualLock.MySql;
using DualLock.Redis;
using MySqlConnector;
using StackExchange.Redis;

namespace DualLock.Benchmarks;

/// <summary>
/// What <see cref="LockCombiner{TItem, TResult}"/> costs when there is no queue (the target: at most
/// 1.05x the plain pipeline): one caller at a time, so every combined call is a batch of one. Two
/// pairs, each with its own baseline: the sample's dual composition (Redis lock, fenced MariaDB
/// transaction, row lock) running one charge UPDATE, and an in-process pipeline with trivial work,
/// which shows the combiner's own overhead in ns and bytes.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CombinerLowLoadBenchmarks
{
    private const string Charge = "UPDATE bench_points SET amount = amount - @amount WHERE user_id = @id";
    private static readonly LockKey InProcessKey = new("account", "1");
    private ConnectionMultiplexer _redis = null!;
    private LockKey _dualKey;
    private LockPipeline _dual = null!;
    private LockCombiner<long, long> _dualCombiner = null!;
    private LockPipeline _inProcess = null!;
    private LockCombiner<long, long> _inProcessCombiner = null!;

    [GlobalSetup]
    public void Setup()
    {
        _redis = ConnectionMultiplexer.Connect(RepositoryRoot.Env("ConnectionStrings__Redis"));
        var userId = $"bdn-combine-{Guid.NewGuid():N}";
        var charges = MySqlCharges.CreateAsync(userId, _redis).GetAwaiter().GetResult();
        _dualKey = new LockKey("bench-points", userId);

        // As the sample's StrategyWiring builds `dual` (and `combined` over it): Redis outside, falling
        // back to the database part when Redis is down; the fenced transaction and the row lock inside.
        _dual = new LockPipelineBuilder { Name = "dual", WaitTimeout = TimeSpan.FromSeconds(30) }
            .AddRedisLock(_redis, new RedisLockOptions { KeyPrefix = "bench-combine" })
            .ContinueIfUnavailable()
            .AddMySqlTransaction(charges.ConnectionString, o => o.EnforceFencing = true)
            .AddMySqlRowLock("bench_points", "user_id")
            .Build();
        _dualCombiner = new LockCombiner<long, long>(_dual, ChargeBatchAsync);

        _inProcess = new LockPipelineBuilder { Name = "local" }.AddInProcessLock().Build();
        _inProcessCombiner = new LockCombiner<long, long>(_inProcess, static (_, batch, _) =>
        {
            for (var i = 0; i < batch.Count; i++)
            {
                batch.SetResult(i, batch[i]);
            }

            return ValueTask.CompletedTask;
        });
    }

    [GlobalCleanup]
    public void Cleanup() => _redis.Dispose();

    [Benchmark(Baseline = true, Description = "dual pipeline, one charge")]
    [BenchmarkCategory("dual")]
    public ValueTask<long> DualPipeline() => _dual.ExecuteAsync(_dualKey, static (context, ct) => ChargeAsync(context, context.Keys.First, 1, ct));

    [Benchmark(Description = "combiner over dual, batch of one")]
    [BenchmarkCategory("dual")]
    public ValueTask<long> DualCombiner() => _dualCombiner.ExecuteAsync(_dualKey, 1);

    [Benchmark(Baseline = true, Description = "in-process pipeline, trivial work")]
    [BenchmarkCategory("in-process")]
    public ValueTask<long> InProcessPipeline() => _inProcess.ExecuteAsync(InProcessKey, static (_, _) => new ValueTask<long>(1));

    [Benchmark(Description = "combiner over in-process, batch of one")]
    [BenchmarkCategory("in-process")]
    public ValueTask<long> InProcessCombiner() => _inProcessCombiner.ExecuteAsync(InProcessKey, 1);

    private static async ValueTask<long> ChargeAsync(LockContext context, LockKey key, long amount, CancellationToken cancellationToken)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        await using var command = new MySqlCommand(Charge, tx.Connection, tx.Transaction);
        command.Parameters.AddWithValue("amount", amount);
        command.Parameters.AddWithValue("id", key.Id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The same UPDATE for the batch's total: for a batch of one, the statement the baseline runs.</summary>
    private static async ValueTask ChargeBatchAsync(LockContext context, LockBatch<long, long> batch, CancellationToken cancellationToken)
    {
        var total = 0L;
        for (var i = 0; i < batch.Count; i++)
        {
            total += batch[i];
        }

        var rows = await ChargeAsync(context, context.Keys.First, total, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < batch.Count; i++)
        {
            batch.SetResult(i, rows);
        }
    }
}
