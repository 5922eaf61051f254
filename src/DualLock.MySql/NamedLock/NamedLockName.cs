using System.Security.Cryptography;
using System.Text;

namespace DualLock.MySql;

/// <summary>Turns a key into a <c>GET_LOCK</c> name of at most 64 characters, the same in every process.</summary>
internal static class NamedLockName
{
    private const int HashChars = 32; // 128 bits of SHA-256, hex

    public static string For(string prefix, LockKey key)
    {
        var name = prefix + key.ToString();
        if (name.Length <= MySqlNamedLockOptions.MaxLockNameLength)
        {
            return name;
        }

        // Keep a readable start (for SHOW PROCESSLIST and performance_schema) and make the rest a hash of the whole name.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, HashChars / 2)).ToLowerInvariant();
        return string.Concat(name.AsSpan(0, MySqlNamedLockOptions.MaxLockNameLength - HashChars - 1), "#", hash);
    }
}
