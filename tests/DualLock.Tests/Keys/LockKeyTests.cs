namespace DualLock.Tests.Keys;

public sealed class LockKeyTests
{
    [Fact]
    public void ToString_WithoutScope_IsResourceColonId()
        => Assert.Equal("user-point:42", new LockKey("user-point", "42").ToString());

    [Fact]
    public void ToString_WithScope_AppendsScope()
        => Assert.Equal("user-point:42:charge", new LockKey("user-point", "42", "charge").ToString());

    [Fact]
    public void Equality_SameParts_AreEqual()
    {
        Assert.Equal(new LockKey("a", "1", "s"), new LockKey("a", "1", "s"));
        Assert.NotEqual(new LockKey("a", "1"), new LockKey("a", "1", "s"));
    }

    [Theory]
    [InlineData("", "1", null, "resource", "must not be empty")]
    [InlineData("   ", "1", null, "resource", "must not be empty")]
    [InlineData("user", "", null, "id", "must not be empty")]
    [InlineData("user", "1", "", "scope", "must not be empty")]
    [InlineData("us:er", "1", null, "resource", "must not contain ':'")]
    [InlineData("user", "1:2", null, "id", "must not contain ':'")]
    [InlineData("user", "1", "a:b", "scope", "must not contain ':'")]
    [InlineData("user", "{1}", null, "id", "must not contain '{'")]
    [InlineData("user", "1 2", null, "id", "whitespace or control characters")]
    [InlineData("user", "1\n", null, "id", "whitespace or control characters")]
    public void Constructor_InvalidPart_ThrowsNamingThePart(string resource, string id, string? scope, string part, string why)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new LockKey(resource, id, scope));
        Assert.Equal(part, ex.ParamName);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TooLongId_ThrowsWithLengthAndLimit()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockKey("user", new string('x', LockKey.MaxIdLength + 1)));
        Assert.Contains($"{LockKey.MaxIdLength + 1} characters long; the maximum is {LockKey.MaxIdLength}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TooLongResource_Throws()
        => Assert.Throws<ArgumentException>(() => new LockKey(new string('r', LockKey.MaxPartLength + 1), "1"));

    [Fact]
    public void Constructor_MaximumLengths_Accepted()
    {
        var key = new LockKey(new string('r', LockKey.MaxPartLength), new string('i', LockKey.MaxIdLength), new string('s', LockKey.MaxPartLength));
        Assert.Equal(LockKey.MaxPartLength * 2 + LockKey.MaxIdLength + 2, key.ToString().Length);
    }

    [Fact]
    public void Constructor_NullResource_ThrowsArgumentNull()
        => Assert.Throws<ArgumentNullException>(() => new LockKey(null!, "1"));
}
