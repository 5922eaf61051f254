using System.Globalization;

namespace DualLock.FaultSearch.Faults;

/// <summary>The kinds of fault the search draws from.</summary>
internal static class FaultKinds
{
    /// <summary>The proxy answers a role's commands with an error (they do not run).</summary>
    public const string ProxyError = "proxy-error";

    /// <summary>The proxy holds a role's replies (and the connection's later ones).</summary>
    public const string ProxyDelay = "proxy-delay";

    /// <summary>The proxy forwards a role's command, loses its reply, stalls, resets the connection.</summary>
    public const string ProxyDrop = "proxy-drop";

    /// <summary>The proxy resets the connection instead of forwarding a role's command.</summary>
    public const string ProxyReset = "proxy-reset";

    /// <summary>Every proxied connection is reset at once.</summary>
    public const string ResetAll = "reset-all";

    /// <summary>A side connection deletes a hot key's lock state (not its fence counter).</summary>
    public const string RedisDelete = "redis-del";

    /// <summary>
    /// A side connection deletes a hot key's lock state again and again (every few ms, for the fault's length), so
    /// another process takes the key while this one still hands its lease to local callers: aimed at the lease a
    /// process must stop handing on once it learns it lost it (a fence refusal, a renewal that found the key gone).
    /// </summary>
    public const string RedisDeleteBurst = "redis-del-burst";

    /// <summary>A side connection sets a hot key's lock state to expire in a few ms.</summary>
    public const string RedisExpire = "redis-pexpire";

    /// <summary><c>KILL CONNECTION</c> of workers' MariaDB sessions.</summary>
    public const string MySqlKill = "mysql-kill";

    /// <summary><c>KILL QUERY</c> of workers' running statements.</summary>
    public const string MySqlKillQuery = "mysql-kill-query";

    /// <summary>MariaDB killed and restarted (scripts/services.sh kill-mysql, start-mysql).</summary>
    public const string MySqlRestart = "mysql-restart";

    /// <summary><c>pg_terminate_backend</c> of workers' PostgreSQL sessions.</summary>
    public const string PostgresKill = "postgres-kill";

    /// <summary>PostgreSQL SIGKILLed and restarted (scripts/services.sh kill-postgres, start-postgres).</summary>
    public const string PostgresRestart = "postgres-restart";
}

/// <summary>One fault of a schedule.</summary>
/// <param name="At">When it starts, from the start of the fault phase.</param>
/// <param name="Kind">One of <see cref="FaultKinds"/>.</param>
/// <param name="Role">The proxy faults' command role (see <c>Proxy.CommandRoles</c>).</param>
/// <param name="Error">The proxy error's line.</param>
/// <param name="Length">How long a proxy fault stays in force.</param>
/// <param name="Delay">The proxy delay or stall; the expiry of <see cref="FaultKinds.RedisExpire"/>.</param>
/// <param name="Probability">The share of matching commands a proxy fault hits.</param>
/// <param name="Strategy">The strategy whose key a Redis side fault hits.</param>
/// <param name="Key">That key's index.</param>
/// <param name="Count">How many sessions a MariaDB kill hits.</param>
internal sealed record FaultEvent(
    TimeSpan At, string Kind, string Role, string Error, TimeSpan Length, TimeSpan Delay, double Probability, string Strategy, int Key, int Count)
{
    public override string ToString()
    {
        var at = At.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s";
        return Kind switch
        {
            FaultKinds.ProxyError => $"{at} {Kind} {Role} -{Error.Split(' ')[0]} for {Length.TotalMilliseconds:0} ms p={Probability:0.##}",
            FaultKinds.ProxyDelay or FaultKinds.ProxyDrop => $"{at} {Kind} {Role} {Delay.TotalMilliseconds:0} ms for {Length.TotalMilliseconds:0} ms p={Probability:0.##}",
            FaultKinds.ProxyReset => $"{at} {Kind} {Role} for {Length.TotalMilliseconds:0} ms p={Probability:0.##}",
            FaultKinds.RedisDelete => $"{at} {Kind} {Strategy} k{Key}",
            FaultKinds.RedisDeleteBurst => $"{at} {Kind} {Strategy} k{Key} for {Length.TotalMilliseconds:0} ms",
            FaultKinds.RedisExpire => $"{at} {Kind} {Strategy} k{Key} in {Delay.TotalMilliseconds:0} ms",
            FaultKinds.MySqlKill or FaultKinds.MySqlKillQuery or FaultKinds.PostgresKill => $"{at} {Kind} x{Count}",
            _ => $"{at} {Kind}",
        };
    }
}
