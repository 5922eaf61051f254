using System.Globalization;
using DualLock.IntegrationTests.Redis;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>
/// The reader-writer contract on the real Redis (each <see cref="Create"/> is another "process": its own
/// local queue), plus what only a distributed lock has: leases, fencing tokens, a second OS process.
/// </summary>
public sealed class RedisReaderWriterLockTests : ReaderWriterLockContractTests
{
    /// <summary>Short leases so a lost one is noticed quickly: renewal every 400 ms, calls bounded by 200 ms.</summary>
    private static readonly RedisReaderWriterLockOptions ShortLease = new()
    {
        Lease = TimeSpan.FromSeconds(2),
        RenewalInterval = TimeSpan.FromMilliseconds(400),
        OperationTimeout = TimeSpan.FromMilliseconds(200),
    };

    private readonly string _prefix = "dlrw" + Guid.NewGuid().ToString("N")[..10];
    private ConnectionMultiplexer? _redis;

    private ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public override async ValueTask InitializeAsync() => _redis = await Servers.SharedRedisAsync();

    public override async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            var server = _redis.GetServers()[0];
            await foreach (var key in server.KeysAsync(pattern: _prefix + ":*"))
            {
                await _redis.GetDatabase().KeyDeleteAsync(key);
            }
        }

        await base.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExecuteAsync_LeaseTakenAway_WorkTokenFiresAndLeaseLostIsThrown(bool write)
    {
        var rw = Create(ShortLease);
        var key = NewKey();
        var running = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<LockContext, CancellationToken, ValueTask<bool>> work = async (_, ct) =>
        {
            running.SetResult(ct);
            await Task.Delay(TimeSpan.FromSeconds(60), ct);
            return true;
        };
        var run = write ? rw.ExecuteWriteAsync(key, work, Bound, Ct).AsTask() : rw.ExecuteReadAsync(key, work, Bound, Ct).AsTask();
        var token = await running.Task.WaitAsync(Bound, Ct);

        // Behind the holder's back: the writer's key, or every reader's entry, is gone.
        Assert.True(await Redis.GetDatabase().KeyDeleteAsync(write ? Name(key, "rw:writer") : Name(key, "rw:readers")), "Nothing was held in Redis.");

        var ex = await Assert.ThrowsAsync<LockLeaseLostException>(() => run.WaitAsync(Bound));
        Assert.True(token.IsCancellationRequested, "The loss must reach the work's token.");
        Assert.Equal("redis-reader-writer", ex.Stage);
        Assert.DoesNotContain(key.Id, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteWriteAsync_Writers_FencingTokensIncreaseAlsoAfterTheCounterIsLostAndAcrossTheExclusiveLock()
    {
        var rw = Create();
        var key = NewKey();
        var tokens = new List<long>();
        async Task WriteAsync() => tokens.Add(await rw.ExecuteWriteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), Bound, Ct));

        await WriteAsync();
        await WriteAsync();

        // The exclusive lock on the same key draws from the same counter.
        var exclusive = new LockPipelineBuilder { Name = "x" }.AddRedisLock(Redis, new RedisLockOptions { KeyPrefix = _prefix }).Build();
        tokens.Add(await exclusive.ExecuteAsync(key, (ctx, _) => ValueTask.FromResult(ctx.FencingToken!.Value), cancellationToken: Ct));
        await WriteAsync();

        // Redis lost the counter (a restart without persistence, FLUSHALL): tokens still go up.
        Assert.True(await Redis.GetDatabase().KeyDeleteAsync(Name(key, "fence")));
        await WriteAsync();

        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"Token {i} ({tokens[i]}) is not above token {i - 1} ({tokens[i - 1]}): {string.Join(", ", tokens)}");
        }
    }

    [Fact]
    public async Task ExecuteAsync_TenThousandDistinctKeys_OnlyTheFenceCountersStay()
    {
        var rw = Create();
        var keys = Enumerable.Range(0, 10_000).Select(_ => NewKey()).ToArray();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (key, ct) =>
        {
            await rw.ExecuteReadAsync(key, Ok, Bound, ct);
            await rw.ExecuteWriteAsync(key, Ok, Bound, ct);
        });

        var left = new List<string>();
        await foreach (var name in Redis.GetServers()[0].KeysAsync(pattern: _prefix + ":*", pageSize: 1000))
        {
            if (!name.ToString().EndsWith(":fence", StringComparison.Ordinal))
            {
                left.Add(name.ToString());
            }
        }

        Assert.Empty(left);
    }

    [Fact]
    public async Task ExecuteAsync_TwoOsProcesses_WritersExcludeEveryoneReadersShare()
    {
        var key = NewKey();
        var startAt = DateTimeOffset.UtcNow.AddSeconds(2).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        await using var worker = WorkerProcess.Start("rw-contend", key.Resource, key.Id, _prefix, "8", "3000", "10", startAt);
        var rw = RedisReaderWriterLock.Create(Redis, new ReaderWriterLockOptions { WaitTimeout = TimeSpan.FromSeconds(30) }, new RedisReaderWriterLockOptions { KeyPrefix = _prefix });
        var delay = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(startAt, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, Ct);
        }

        var local = await TestWorker.ReaderWriterProbe.RunAsync(rw, Redis.GetDatabase(), key, 8, TimeSpan.FromSeconds(3), 10, Ct);
        var remote = await worker.ResultAsync(TimeSpan.FromSeconds(60));

        TestContext.Current.TestOutputHelper?.WriteLine($"local {local}, remote {remote}");
        Assert.Equal(0, local.Violations + remote.GetProperty("violations").GetInt64());
        Assert.True(local.Writes > 0 && remote.GetProperty("writes").GetInt64() > 0, "Both processes must have written.");
        Assert.True(local.MaxReaders + remote.GetProperty("maxReaders").GetInt64() > 2, "Readers never shared the key: the test proved nothing about sharing.");
    }

    protected override ReaderWriterLockStrategy Create() => Create(null);

    private ReaderWriterLockStrategy Create(RedisReaderWriterLockOptions? options)
    {
        var redisOptions = new RedisReaderWriterLockOptions
        {
            KeyPrefix = _prefix,
            Lease = options?.Lease ?? TimeSpan.FromSeconds(10),
            RenewalInterval = options?.RenewalInterval,
            OperationTimeout = options?.OperationTimeout ?? TimeSpan.FromSeconds(1),
        };
        return RedisReaderWriterLock.Create(Redis, new ReaderWriterLockOptions { Name = "rw-test" }, redisOptions);
    }

    private RedisKey Name(LockKey key, string suffix) => $"{_prefix}:{{{key}}}:{suffix}";
}
