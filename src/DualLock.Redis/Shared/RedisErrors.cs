using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>What a Redis failure means for a lock (the table in docs/failures.md).</summary>
internal enum RedisErrorClass
{
    /// <summary>The server cannot be reached or does not serve now (connection, timeout, LOADING, BUSY, CLUSTERDOWN ...): an outage is noted.</summary>
    Unavailable,

    /// <summary>The server answers but refuses writes (NOREPLICAS, OOM, MISCONF): the lock cannot be taken or released there now; no outage is noted (a read would answer).</summary>
    WritesRefused,

    /// <summary>EVALSHA of a script the server does not have: the script did not run; send its text.</summary>
    NoScript,

    /// <summary>Permission, configuration or script errors (NOPERM, NOAUTH, WRONGTYPE, ERR ...): a fault to fix, never a fallback.</summary>
    Refused,
}

/// <summary>
/// The one table of Redis errors, by the reply's first word. Used by the lock stage, Redlock and the
/// gates so an acquire, a renewal and a release treat the same reply the same way.
/// </summary>
internal static class RedisErrors
{
    private static readonly (string Prefix, RedisErrorClass Class)[] Table =
    [
        ("LOADING", RedisErrorClass.Unavailable),
        ("BUSY", RedisErrorClass.Unavailable),
        ("CLUSTERDOWN", RedisErrorClass.Unavailable),
        ("TRYAGAIN", RedisErrorClass.Unavailable),
        ("MASTERDOWN", RedisErrorClass.Unavailable),

        // After a failover the client may still write to the old master, now a replica, until it reconfigures: an outage of the key's server.
        ("READONLY", RedisErrorClass.Unavailable),

        // MOVED and ASK are followed by the client; one that reaches us means the slot is moving: retry later.
        ("MOVED", RedisErrorClass.Unavailable),
        ("ASK", RedisErrorClass.Unavailable),
        ("NOREPLICAS", RedisErrorClass.WritesRefused),
        ("OOM", RedisErrorClass.WritesRefused),
        ("MISCONF", RedisErrorClass.WritesRefused),
        ("NOSCRIPT", RedisErrorClass.NoScript),
    ];

    /// <summary>Classifies a failure of a Redis call; anything that is not a Redis reply or an outage is <see cref="RedisErrorClass.Refused"/>.</summary>
    public static RedisErrorClass Classify(Exception exception)
    {
        switch (exception)
        {
            case RedisConnectionException or RedisTimeoutException or TimeoutException:
                return RedisErrorClass.Unavailable;
            case RedisServerException server:
                foreach (var (prefix, kind) in Table)
                {
                    if (server.Message.StartsWith(prefix, StringComparison.Ordinal)
                        && (server.Message.Length == prefix.Length || server.Message[prefix.Length] == ' '))
                    {
                        return kind;
                    }
                }

                return RedisErrorClass.Refused;
            default:
                return RedisErrorClass.Refused;
        }
    }

    /// <summary>Whether an acquire that failed so ends in <see cref="LockUnavailableException"/> (a fallback may go on without Redis).</summary>
    public static bool IsUnavailableForAcquire(Exception exception)
        => exception is RedisConnectionException or RedisTimeoutException or TimeoutException or RedisServerException
           && Classify(exception) is RedisErrorClass.Unavailable or RedisErrorClass.WritesRefused;

    /// <summary>Whether the error is a Redis reply that refuses writes (see <see cref="RedisErrorClass.WritesRefused"/>).</summary>
    public static bool RefusesWrites(Exception exception)
        => exception is RedisServerException && Classify(exception) == RedisErrorClass.WritesRefused;

    /// <summary>An acquire refused for a reason no fallback should hide: the message says what to fix.</summary>
    public static InvalidOperationException AcquireRefused(string stage, string resource, RedisServerException error)
    {
        var code = error.Message.Split(' ', 2)[0];
        return new InvalidOperationException(
            $"Redis refused the acquire of stage '{stage}' on resource '{resource}' with {code}: not an outage, so no fallback applies. " +
            $"Check the connection user's ACL permissions (NOPERM, NOAUTH) or what the lock's Redis keys hold (WRONGTYPE, a script error). Redis said: {error.Message}",
            error);
    }
}
