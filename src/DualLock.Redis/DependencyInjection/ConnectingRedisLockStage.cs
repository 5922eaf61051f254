using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The Redis lock of a pipeline whose connection <c>AddRedis(connectionString)</c> registered: until the
/// connection exists, a caller waits for it at most as long as one Redis call may take (and never past its
/// own wait), then fails with <see cref="LockUnavailableException"/>; once it exists, every call goes straight
/// to the <see cref="RedisLockStage"/> on it. Building or resolving the pipeline never connects.
/// </summary>
internal sealed class ConnectingRedisLockStage(RedisConnectionSource source, RedisLockOptions options, LockStageBuildContext build) : LockStage(options.Name), ILockServiceMonitor
{
    private readonly object _sync = new();
    private RedisLockStage? _stage;

    /// <summary>The traits of the <see cref="RedisLockStage"/> it becomes (the composition checks run before it exists).</summary>
    protected internal override LockStageTraits Traits => RedisLockStage.StageTraits;

    /// <summary>The stage's state once it exists; before, the connection's (not made yet, or made and not connected).</summary>
    public LockServiceOutage? CurrentOutage
    {
        get
        {
            if (Volatile.Read(ref _stage) is { } stage)
            {
                return stage.CurrentOutage;
            }

            var connect = source.Current;
            if (connect is { IsCompletedSuccessfully: true })
            {
                return connect.Result.IsConnected ? null : RedisLockStage.Disconnected(build.TimeProvider);
            }

            return new LockServiceOutage(build.TimeProvider.GetUtcNow(), connect?.Exception?.GetBaseException().Message is { } failed
                ? $"The connection to Redis {source.Endpoints} failed: {failed}"
                : $"The connection to Redis {source.Endpoints} is not made yet.");
        }
    }

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
        => Volatile.Read(ref _stage) is { } stage
            ? stage.TryAcquireAsync(context, waitTimeout, cancellationToken)
            : ConnectThenAcquireAsync(context, waitTimeout, cancellationToken);

    private async ValueTask<LockStageHandle?> ConnectThenAcquireAsync(LockContext lockContext, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lockContext);
        var time = build.TimeProvider;
        var start = time.GetTimestamp();

        // As long as one Redis call may take, and not past the caller's wait (a try-once caller still gets one call's time).
        var bound = waitTimeout > TimeSpan.Zero && waitTimeout < options.OperationTimeout ? waitTimeout : options.OperationTimeout;
        IConnectionMultiplexer redis;
        try
        {
            redis = await source.ConnectAsync().WaitAsync(bound, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            var connecting = TimeProvider.System.GetElapsedTime(source.ConnectStarted);
            throw new LockUnavailableException(lockContext.Keys.First.Resource, Name, time.GetElapsedTime(start), new RedisConnectionException(
                ConnectionFailureType.UnableToConnect,
                $"The connection to Redis {source.Endpoints} is not made yet (connecting for {connecting.TotalMilliseconds:0} ms, connect timeout {source.ConnectTimeout.TotalMilliseconds:0} ms).",
                ex));
        }
        catch (Exception ex) when (RedisCall.IsUnavailable(ex))
        {
            throw new LockUnavailableException(lockContext.Keys.First.Resource, Name, time.GetElapsedTime(start), ex);
        }

        var stage = Stage(redis);
        var waited = time.GetElapsedTime(start);
        var remaining = waitTimeout > waited ? waitTimeout - waited : TimeSpan.Zero;
        try
        {
            return await stage.TryAcquireAsync(lockContext, remaining, cancellationToken).ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            // The stage measured its own part only; the caller also waited for the connection.
            throw new LockUnavailableException(ex.Resource, ex.Stage, time.GetElapsedTime(start), ex.InnerException ?? ex);
        }
    }

    private RedisLockStage Stage(IConnectionMultiplexer redis)
    {
        lock (_sync)
        {
            return _stage ??= new RedisLockStage(redis, options, build.TimeProvider, build.LoggerFactory, build.Meter);
        }
    }
}
