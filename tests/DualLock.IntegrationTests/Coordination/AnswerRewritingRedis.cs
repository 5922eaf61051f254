using System.Reflection;
using System.Runtime.ExceptionServices;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Coordination;

/// <summary>
/// A real connection whose script calls all run on the real server, but whose answers a test may hold
/// back or replace: "Redis ran the script, the caller did not hear back in time (or heard an error)".
/// </summary>
public class AnswerRewritingRedis : DispatchProxy
{
    private object _target = null!;
    private Func<string, Task<RedisResult>, Task<RedisResult>?> _rewrite = null!;
    private IDatabase? _database;

    /// <summary>
    /// Wraps <paramref name="redis"/>; <paramref name="rewrite"/> sees each script and the real call (already sent)
    /// and returns the answer the caller gets instead, or null to hand it the real one.
    /// </summary>
    public static IConnectionMultiplexer Wrap(IConnectionMultiplexer redis, Func<string, Task<RedisResult>, Task<RedisResult>?> rewrite)
    {
        var proxy = Create<IConnectionMultiplexer, AnswerRewritingRedis>();
        var self = (AnswerRewritingRedis)(object)proxy;
        self._target = redis;
        self._rewrite = rewrite;
        var database = Create<IDatabase, AnswerRewritingRedis>();
        var db = (AnswerRewritingRedis)(object)database;
        db._target = redis.GetDatabase();
        db._rewrite = rewrite;
        self._database = database;
        return proxy;
    }

    /// <summary>Rewrites the first answer to <paramref name="script"/> only; later calls get their real answers.</summary>
    public static Func<string, Task<RedisResult>, Task<RedisResult>?> First(string script, Func<Task<RedisResult>, Task<RedisResult>> rewrite)
    {
        var fired = 0;
        return (s, real) => s == script && Interlocked.Exchange(ref fired, 1) == 0 ? rewrite(real) : null;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (_database is not null && targetMethod.Name == nameof(IConnectionMultiplexer.GetDatabase))
        {
            return _database;
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

        return targetMethod.Name == nameof(IDatabase.ScriptEvaluateAsync) && args is [string script, ..] && result is Task<RedisResult> real
            ? _rewrite(script, real) ?? real
            : result;
    }
}
