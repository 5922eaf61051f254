using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace DualLock.FaultSearch.Proxy;

/// <summary>
/// Names what a command does for the lock, so a fault can target "the acquire script" rather than a
/// SHA: the proxy learns each script's SHA from the EVAL or SCRIPT LOAD that carried its text (the
/// library sends EVALSHA first and the text once, on NOSCRIPT), across all connections.
/// </summary>
internal static class CommandRoles
{
    public const string Acquire = "acquire";
    public const string Release = "release";
    public const string Extend = "extend";
    public const string Keep = "keep";
    public const string Gate = "gate";
    public const string OtherScript = "script";

    private static readonly ConcurrentDictionary<string, string> RoleBySha = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The role of a command: a script role for EVAL/EVALSHA, else the command's name in lower case.</summary>
    public static string Of(RespFrame command)
    {
        switch (command.Name)
        {
            case "EVAL":
                var text = command.Argument(1);
                var role = OfScript(text);
                RoleBySha[Sha1(text)] = role;
                return role;
            case "EVALSHA":
                return RoleBySha.TryGetValue(command.Argument(1), out var known) ? known : OtherScript;
            case "SCRIPT" when command.Argument(1).Equals("LOAD", StringComparison.OrdinalIgnoreCase):
                RoleBySha[Sha1(command.Argument(2))] = OfScript(command.Argument(2));
                return "script-load";
            default:
                return command.Name.ToLowerInvariant();
        }
    }

    // Recognised by fragments of the scripts' text (src/DualLock.Redis/Shared/RedisLockScripts.cs, Coordination/RedisGateScripts.cs).
    private static string OfScript(string text)
    {
        if (text.Contains("next_fence", StringComparison.Ordinal) && text.Contains("'NX'", StringComparison.Ordinal))
        {
            return Acquire;
        }

        if (text.Contains("zadd", StringComparison.Ordinal) || text.Contains("zrem", StringComparison.Ordinal))
        {
            return Gate;
        }

        if (text.Contains("~= ARGV[1] then return -1", StringComparison.Ordinal))
        {
            return Keep;
        }

        if (text.Contains("return redis.call('pexpire', KEYS[1]", StringComparison.Ordinal))
        {
            return Extend;
        }

        if (text.Contains("redis.call('del', KEYS[1])", StringComparison.Ordinal) && text.Contains("publish", StringComparison.Ordinal))
        {
            return Release;
        }

        return OtherScript;
    }

#pragma warning disable CA5350 // SHA1 is how Redis names a script
    private static string Sha1(string text) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
}
