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

    [Theory]
    [InlineData(42L, "42")]
    [InlineData(0L, "0")]
    [InlineData(-7L, "-7")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void Constructor_LongId_FormatsInvariantDecimalAndEqualsStringKey(long id, string text)
    {
        var key = new LockKey("user-point", id);
        Assert.Equal(text, key.Id);
        Assert.Equal($"user-point:{text}", key.ToString());
        Assert.Equal(new LockKey("user-point", text), key);
        Assert.Equal(new LockKey("user-point", text).GetHashCode(), key.GetHashCode());
    }

    [Fact]
    public void Constructor_IntId_EqualsSameLongAndString()
    {
        var key = new LockKey("user-point", 42, "charge");
        Assert.Equal("user-point:42:charge", key.ToString());
        Assert.Equal(new LockKey("user-point", 42L, "charge"), key);
        Assert.Equal(new LockKey("user-point", "42", "charge"), key);
        Assert.NotEqual(new LockKey("user-point", 43, "charge"), key);
    }

    [Fact]
    public void Constructor_GuidId_IsLowerCaseDFormat()
    {
        var id = Guid.Parse("0F8FAD5B-D9CB-469F-A165-70867728950E");
        var key = new LockKey("order", id, "pay");
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", key.Id);
        Assert.Equal("order:0f8fad5b-d9cb-469f-a165-70867728950e:pay", key.ToString());
        Assert.Equal(new LockKey("order", "0f8fad5b-d9cb-469f-a165-70867728950e", "pay"), key);
        Assert.NotEqual(new LockKey("order", Guid.Empty, "pay"), key);
    }

    [Fact]
    public void Constructor_NumericId_StillValidatesResourceAndScope()
    {
        Assert.Equal("resource", Assert.ThrowsAny<ArgumentException>(() => new LockKey("us:er", 1L)).ParamName);
        Assert.Equal("scope", Assert.ThrowsAny<ArgumentException>(() => new LockKey("user", 1, "a b")).ParamName);
        Assert.Equal("resource", Assert.ThrowsAny<ArgumentException>(() => new LockKey("", Guid.NewGuid())).ParamName);
    }

    [Fact]
    public void Constructor_LongId_AllocatesOnlyTheIdText()
    {
        const long id = 1234567890123L;

        // Warm both paths up so the JIT's own allocations are not counted.
        _ = new LockKey("user-point", id);
        _ = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var text = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var stringPath = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        var key = new LockKey("user-point", id);
        var longPath = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(text, key.Id);
        Assert.True(stringPath > 0, "the string path must allocate the id text");
        Assert.Equal(stringPath, longPath);
    }
}
