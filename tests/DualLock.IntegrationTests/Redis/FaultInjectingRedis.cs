using System.Reflection;
using System.Runtime.ExceptionServices;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Redis;

/// <summary>
/// A real connection whose <see cref="IDatabase"/> fails chosen script calls: a fake for "Redis answered
/// with an error that is not an outage" (-OOM, -NOREPLICAS); everything else goes to the real server.
/// </summary>
public class FaultInjectingRedis : DispatchProxy
{
    private object _target = null!;
    private Func<string, Task<RedisResult>?> _fault = null!;
    private IDatabase? _database;

    /// <summary>Wraps <paramref name="redis"/>; <paramref name="fault"/> sees each script and returns the answer to give instead, or null to run it.</summary>
    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer redis, Func<string, Task<RedisResult>?> fault)
    {
        var proxy = Create<IConnectionMultiplexer, FaultInjectingRedis>();
        var self = (FaultInjectingRedis)(object)proxy;
        self._target = redis;
        self._fault = fault;
        var database = Create<IDatabase, FaultInjectingRedis>();
        var db = (FaultInjectingRedis)(object)database;
        db._target = redis.GetDatabase();
        db._fault = fault;
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

        if (targetMethod.Name == nameof(IDatabase.ScriptEvaluateAsync) && ScriptOf(args) is { } script && _fault(script) is { } answer)
        {
            return answer;
        }

        try
        {
            return targetMethod.Invoke(_target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }
}
