using DualLock.PostgreSql;

namespace DualLock.Tests.PostgreSql;

/// <summary>Table and column names from options: only plain identifiers (PostgreSQL keeps 63 bytes of a name), always quoted.</summary>
public sealed class PostgresIdentifierTests
{
    [Theory]
    [InlineData("account")]
    [InlineData("_private")]
    [InlineData("Account_2")]
    [InlineData("a")]
    public void Plain_AcceptsPlainIdentifiers(string name)
        => Assert.Empty(new PostgresRowLockOptions { Table = name, KeyColumn = "id" }.Validate());

    [Fact]
    public void Plain_Accepts63CharactersAndRejects64()
    {
        Assert.Empty(new PostgresRowLockOptions { Table = new string('t', 63), KeyColumn = "id" }.Validate());
        Assert.Single(new PostgresRowLockOptions { Table = new string('t', 64), KeyColumn = "id" }.Validate());
    }

    [Theory]
    [InlineData("2fast")]
    [InlineData("user points")]
    [InlineData("a-b")]
    [InlineData("a.b")]
    [InlineData("\"quoted\"")]
    [InlineData("x;DROP TABLE y")]
    [InlineData("caf\u00e9")]
    [InlineData(" account")]
    [InlineData("")]
    public void Plain_RejectsAnythingElse(string name)
    {
        var problem = Assert.Single(new PostgresRowLockOptions { Table = name, KeyColumn = "id" }.Validate());

        Assert.Contains("PostgresRowLockOptions.Table must be a plain SQL identifier", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_RejectsNull()
        => Assert.Contains("plain SQL identifier", Assert.Single(new PostgresRowLockOptions { Table = "t" }.Validate()), StringComparison.Ordinal);

    [Theory]
    [InlineData("account", "\"account\"")]
    [InlineData("Account", "\"Account\"")]
    public void Quote_DoubleQuotesAndKeepsTheCase(string name, string quoted)
        => Assert.Equal(quoted, PostgresIdentifier.Quote(name));
}
