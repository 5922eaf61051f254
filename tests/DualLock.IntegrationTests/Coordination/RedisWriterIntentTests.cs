using DualLock.IntegrationTests.Redis;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>
/// A writer that gives up withdraws its intent on every exit path of its acquire, so the readers and writers
/// of every process go on at once instead of waiting for the intent to expire. Each case lets the writer's
/// first WriteAcquire run in the real Redis (it announces the intent, since a reader holds the key) and then
/// takes the answer away from the writer in one way.
/// </summary>
public sealed class RedisWriterIntentTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly string _prefix = "dlwi" + Guid.NewGuid().ToString("N")[..10];
    private readonly TaskCompletionSource _ran = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _checked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ConnectionMultiplexer? _redis;

    /// <summary>How the writer's first attempt ends after the script ran in Redis.</summary>
    public enum ExitPath
    {
        /// <summary>The answer comes after the caller's wait (shorter than the call bound): not acquired.</summary>
        WaitEndsDuringTheCall,

        /// <summary>The answer comes after the call bound (shorter than the wait): unavailable.</summary>
        CallBoundEnds,

        /// <summary>The answer is a connection error: unavailable.</summary>
        ConnectionError,

        /// <summary>The answer is a server error that is not an outage: it propagates.</summary>
        ServerError,

        /// <summary>The caller cancels while the answer is outstanding.</summary>
        CancelledDuringTheCall,

        /// <summary>The caller cancels after its first answer, while it waits for a wake-up.</summary>
        CancelledWhileWaiting,
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public async ValueTask InitializeAsync() => _redis = await Servers.SharedRedisAsync();

    public async ValueTask DisposeAsync()
    {
        _checked.TrySetResult();
        _answer.TrySetResult();
        if (_redis is not null)
        {
            await foreach (var key in _redis.GetServers()[0].KeysAsync(pattern: _prefix + ":*"))
            {
                await _redis.GetDatabase().KeyDeleteAsync(key);
            }
        }
    }

    [Theory]
    [InlineData(ExitPath.WaitEndsDuringTheCall)]
    [InlineData(ExitPath.CallBoundEnds)]
    [InlineData(ExitPath.ConnectionError)]
    [InlineData(ExitPath.ServerError)]
    [InlineData(ExitPath.CancelledDuringTheCall)]
    [InlineData(ExitPath.CancelledWhileWaiting)]
    public async Task TryExecuteWriteAsync_WriterGivesUpAfterItsIntentWasSet_TryOnceReaderOfAnotherProcessIsAdmittedAtOnce(ExitPath path)
    {
        var key = new LockKey("rw", Guid.NewGuid().ToString("N")[..16]);
        var readers = Create(Redis, TimeSpan.FromSeconds(1));
        var (holding, release) = HoldRead(readers, key);
        await holding.WaitAsync(Bound, Ct);

        // The wait or the call bound ends first, as the case needs; both far shorter than the intent's own expiry.
        var (callBound, wait) = path switch
        {
            ExitPath.WaitEndsDuringTheCall => (TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300)),
            ExitPath.CallBoundEnds => (TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5)),
            _ => (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)),
        };
        var writer = Create(FaultInjectingRedis.WrapRewriting(Redis, FaultInjectingRedis.First(RedisGateScripts.WriteAcquire, RewriteAsync(path))), callBound);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var attempt = writer.TryExecuteWriteAsync(key, Ok, wait, cancel.Token).AsTask();

        await _ran.Task.WaitAsync(Bound, Ct);
        Assert.True(await Redis.GetDatabase().KeyExistsAsync(Name(key, "rw:intent")), "The writer's attempt set no intent: the case proves nothing.");
        _checked.TrySetResult();
        if (path == ExitPath.CancelledWhileWaiting)
        {
            // Past its first answer the writer waits for a wake-up (the reader holds): cancel it there.
            await Task.Delay(200, Ct);
        }

        if (path is ExitPath.CancelledDuringTheCall or ExitPath.CancelledWhileWaiting)
        {
            await cancel.CancelAsync();
        }

        var ended = await Record.ExceptionAsync(() => attempt.WaitAsync(Bound, Ct));
        AssertEnded(path, ended, attempt);

        Assert.False(await Redis.GetDatabase().KeyExistsAsync(Name(key, "rw:intent")), $"The writer left its intent behind ({path}).");
        var other = Create(Redis, TimeSpan.FromSeconds(1));
        Assert.True((await other.TryExecuteReadAsync(key, Ok, TimeSpan.Zero, Ct)).Acquired, $"A try-once reader was refused after the writer gave up ({path}).");

        _answer.TrySetResult();
        release();
    }

    private static void AssertEnded(ExitPath path, Exception? ended, Task<LockAttempt<bool>> attempt)
    {
        switch (path)
        {
            case ExitPath.WaitEndsDuringTheCall:
                Assert.Null(ended);
                Assert.False(attempt.Result.Acquired, "The writer was admitted although a reader held the key.");
                break;
            case ExitPath.CallBoundEnds or ExitPath.ConnectionError:
                Assert.IsType<LockUnavailableException>(ended);
                break;
            case ExitPath.ServerError:
                Assert.IsType<RedisServerException>(ended);
                break;
            default:
                Assert.IsAssignableFrom<OperationCanceledException>(ended);
                break;
        }
    }

    /// <summary>The writer's first answer: the real one (at once or once the test lets it go), or an error, always after the script ran.</summary>
    private Func<Task<RedisResult>, Task<RedisResult>> RewriteAsync(ExitPath path) => async real =>
    {
        var result = await real;
        _ran.TrySetResult();

        // The writer hears nothing until the test saw the intent in Redis.
        await _checked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        switch (path)
        {
            case ExitPath.ConnectionError:
                throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "Injected: the connection broke before the answer.");
            case ExitPath.ServerError:
                throw new RedisServerException("ERR injected: an answer that is not an outage.");
            case ExitPath.CancelledWhileWaiting:
                return result;
            default:
                await _answer.Task.WaitAsync(TimeSpan.FromSeconds(60));
                return result;
        }
    };

    private static ValueTask<bool> Ok(LockContext context, CancellationToken cancellationToken) => ValueTask.FromResult(true);

    private static (Task Entered, Action Release) HoldRead(ReaderWriterLockStrategy rw, LockKey key)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = rw.ExecuteReadAsync(
            key,
            async (_, ct) =>
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
                return true;
            },
            Bound,
            Ct).AsTask();
        return (entered.Task, () => release.TrySetResult());
    }

    /// <summary>
    /// A "process" of its own (its own local gate). A long recheck interval makes the intent live ~20 s, so
    /// only a withdrawal (not its expiry) can let the reader in during the test.
    /// </summary>
    private ReaderWriterLockStrategy Create(IConnectionMultiplexer redis, TimeSpan callBound) => RedisReaderWriterLock.Create(
        redis,
        new ReaderWriterLockOptions { Name = "rw-intent" },
        new RedisReaderWriterLockOptions
        {
            KeyPrefix = _prefix,
            Lease = TimeSpan.FromSeconds(30),
            OperationTimeout = callBound,
            RecheckInterval = TimeSpan.FromSeconds(10),
        });

    private RedisKey Name(LockKey key, string suffix) => $"{_prefix}:{{{key}}}:{suffix}";
}
