using DualLock.MySql;

namespace DualLock.Tests.MySql;

public sealed class NamedLockNameTests
{
    [Fact]
    public void For_ShortKey_IsPrefixAndKey()
        => Assert.Equal("duallock:account:42", NamedLockName.For("duallock:", new LockKey("account", "42")));

    [Fact]
    public void For_LongKey_IsAtMost64CharactersDeterministicAndDistinct()
    {
        var a = new LockKey("account", new string('a', 100));
        var b = new LockKey("account", new string('a', 99) + "b");

        var nameA = NamedLockName.For("duallock:", a);

        Assert.Equal(MySqlNamedLockOptions.MaxLockNameLength, nameA.Length);
        Assert.Equal(nameA, NamedLockName.For("duallock:", a));
        Assert.NotEqual(nameA, NamedLockName.For("duallock:", b));
        Assert.StartsWith("duallock:account:aaa", nameA, StringComparison.Ordinal);
    }
}
