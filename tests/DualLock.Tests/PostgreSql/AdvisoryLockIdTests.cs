using DualLock.PostgreSql;

namespace DualLock.Tests.PostgreSql;

/// <summary>
/// The advisory lock id must be the same in every process and .NET version, or two processes would lock different ids
/// for one key. Pinned to values computed outside .NET (Python: the first 8 bytes, big-endian signed, of
/// SHA-256 over the UTF-8 of <c>namespace + "\n" + key</c>).
/// </summary>
public sealed class AdvisoryLockIdTests
{
    [Theory]
    [InlineData("duallock", "counter", "a", 38082038740521798L)]
    [InlineData("duallock", "order", "42", 6538458840091892126L)]
    [InlineData("app-b", "order", "42", 9042715389355034857L)]
    public void For_IsPinnedToFixedValues(string ns, string resource, string id, long expected)
        => Assert.Equal(expected, AdvisoryLockId.For(ns, new LockKey(resource, id)));

    [Fact]
    public void For_ScopedKey_IsPinnedToAFixedNegativeValue()
        => Assert.Equal(-7722705934363920811L, AdvisoryLockId.For("duallock", new LockKey("order", "42", "refund")));

    [Fact]
    public void For_NumericAndTextIdOfTheSameValue_AreOneLock()
        => Assert.Equal(AdvisoryLockId.For("duallock", new LockKey("order", "42")), AdvisoryLockId.For("duallock", new LockKey("order", 42L)));

    [Fact]
    public void For_ScopeAndNamespace_ChangeTheId()
    {
        var plain = AdvisoryLockId.For("duallock", new LockKey("order", "42"));

        Assert.NotEqual(plain, AdvisoryLockId.For("duallock", new LockKey("order", "42", "refund")));
        Assert.NotEqual(plain, AdvisoryLockId.For("other", new LockKey("order", "42")));
    }
}
