using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DualLock.PostgreSql;

/// <summary>
/// The 64-bit id of a key's advisory lock: the first 8 bytes (big-endian) of SHA-256 over the UTF-8 of
/// <c>namespace + "\n" + key</c>. The same in every process, machine and .NET version (string.GetHashCode is not).
/// </summary>
internal static class AdvisoryLockId
{
    public static long For(string @namespace, LockKey key)
    {
        var text = @namespace + "\n" + key.ToString();
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }
}
