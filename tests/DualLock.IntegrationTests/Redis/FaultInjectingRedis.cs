using System.Reflection;
using System.Runtime.ExceptionServices;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// A real connection whose <see cref="IDatabase"/> answers chosen script calls itself: instead of running them
/// (<see cref="Wrap"/>: "Redis answered with an error that is not an outage", -OOM, -NOREPLICAS), or after
/// they ran on the real server (<see cref="WrapRewriting"/>: "Redis ran the script, the caller did not hear
/// back in time, or heard an error"). Everything else goes to the real server.
/// </summary>
public class FaultInjectingRedis : DispatchProxy
{
    private object _target = null!;
    private Func<string, Task<RedisResult>?>? _fault;
    private Func<string, Task<RedisResult>, Task<RedisResult>?>? _rewrite;
    private IDatabase? _database;
    private ISubscriber? _subscriber;

    /// <summary>Wraps <paramref name="redis"/>; <paramref name="fault"/> sees each script and returns the answer to give instead, or null to run it.</summary>
    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer redis, Func<string, Task<RedisResult>?> fault)
        => Create(redis, fault, null);

    /// <summary>
    /// Wraps <paramref name="redis"/>; <paramref name="rewrite"/> sees each script and the real call (already sent)
    /// and returns the answer the caller gets instead, or null to hand it the real one.
    /// </summary>
    public static IConnectionMultiplexer WrapRewriting(IConnectionMultiplexer redis, Func<string, Task<RedisResult>, Task<RedisResult>?> rewrite)
        => Create(redis, null, rewrite);

    /// <summary>Wraps <paramref name="redis"/> so that <see cref="IConnectionMultiplexer.GetSubscriber"/> answers <paramref name="subscriber"/>; the database is the real one.</summary>
    public static IConnectionMultiplexer WithSubscriber(IConnectionMultiplexer redis, ISubscriber subscriber)
    {
        var proxy = Create(redis, null, null);
        ((FaultInjectingRedis)(object)proxy)._subscriber = subscriber;
        return proxy;
    }

    /// <summary>Rewrites the first answer to <paramref name="script"/> only; later calls get their real answers.</summary>
    public static Func<string, Task<RedisResult>, Task<RedisResult>?> First(string script, Func<Task<RedisResult>, Task<RedisResult>> rewrite)
    {
        var fired = 0;
        return (s, real) => s == script && Interlocked.Exchange(ref fired, 1) == 0 ? rewrite(real) : null;
    }

    private static IConnectionMultiplexer Create(IConnectionMultiplexer redis, Func<string, Task<RedisResult>?>? fault, Func<string, Task<RedisResult>, Task<RedisResult>?>? rewrite)
    {
        var proxy = Create<IConnectionMultiplexer, FaultInjectingRedis>();
        var self = (FaultInjectingRedis)(object)proxy;
        var database = Create<IDatabase, FaultInjectingRedis>();
        var db = (FaultInjectingRedis)(object)database;
        (self._target, db._target) = (redis, redis.GetDatabase());
        (self._fault, db._fault) = (fault, fault);
        (self._rewrite, db._rewrite) = (rewrite, rewrite);
        self._database = database;
        return proxy;
    }

    /// <summary>A fault that answers the first call of <paramref name="script"/> with <paramref name="error"/>, then lets calls through.</summary>
    public static Func<string, Task<RedisResult>?> Once(string script, Func<Exception> error)
        => Once(script, () => Task.FromException<RedisResult>(error()));

    /// <summary>A fault that answers the first call of <paramref name="script"/> with the task <paramref name="answer"/> makes, then lets calls through.</summary>
    public static Func<string, Task<RedisResult>?> Once(string script, Func<Task<RedisResult>> answer)
    {
        var fired = 0;
        return s => s == script && Interlocked.Exchange(ref fired, 1) == 0 ? answer() : null;
    }

    /// <summary>The script a call runs: its text, or the text of the script a hash names (the stage sends its hot scripts by SHA1).</summary>
    private static string? ScriptOf(object?[]? args) => args switch
    {
        [string script, ..] => script,
        [byte[] hash, ..] when hash.AsSpan().SequenceEqual(RedisLockScripts.AcquireHash) => RedisLockScripts.Acquire,
        [byte[] hash, ..] when hash.AsSpan().SequenceEqual(RedisLockScripts.ReleaseHash) => RedisLockScripts.Release,
        _ => null,
    };

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (_database is not null && targetMethod.Name == nameof(IConnectionMultiplexer.GetDatabase))
        {
            return _database;
        }

        if (_subscriber is not null && targetMethod.Name == nameof(IConnectionMultiplexer.GetSubscriber))
        {
            return _subscriber;
        }

        var script = targetMethod.Name == nameof(IDatabase.ScriptEvaluateAsync) ? ScriptOf(args) : null;
        if (script is not null && _fault?.Invoke(script) is { } answer)
        {
            return answer;
        }

        object? result;
        try
        {
            result = targetMethod.Invoke(_target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        return script is not null && _rewrite is not null && result is Task<RedisResult> real ? _rewrite(script, real) ?? real : result;
    }
}
