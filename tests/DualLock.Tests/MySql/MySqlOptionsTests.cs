using DualLock.MySql;

namespace DualLock.Tests.MySql;

public sealed class MySqlOptionsTests
{
    private const string ConnectionString = "Server=127.0.0.1;User ID=u;Password=p;Database=d";

    [Theory]
    [InlineData("account; DROP TABLE x", "id")]
    [InlineData("account", "id`")]
    [InlineData("", "id")]
    [InlineData("1account", "id")]
    public void AddMySqlRowLock_UnsafeIdentifier_ThrowsNamingTheOption(string table, string column)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlTransaction(ConnectionString).AddMySqlRowLock(table, column).Build());
        Assert.Contains("plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMySqlRowLock_SqlWithoutLockingRead_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlRowLock(new MySqlRowLockOptions { Sql = "SELECT 1 FROM t WHERE id = @id" }).Build());
        Assert.Contains("FOR UPDATE", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMySqlRowLock_NoWaitModeSqlWithoutNoWait_Throws()
    {
        var options = new MySqlRowLockOptions { Sql = "SELECT 1 FROM t WHERE id = @id FOR UPDATE", WaitMode = MySqlRowLockWaitMode.NoWaitRetry };
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlRowLock(options).Build());
        Assert.Contains("NOWAIT", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMySqlRowLock_SqlAndTable_Throws()
        => Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlRowLock(new MySqlRowLockOptions { Sql = "SELECT 1 FROM t FOR UPDATE", Table = "t" }).Build());

    [Fact]
    public void AddMySqlTransaction_MissingConnectionString_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlTransaction(new MySqlTransactionOptions()).Build());
        Assert.Contains("ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMySqlTransaction_FencingWithUnsafeFenceTable_Throws()
        => Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlTransaction(ConnectionString, o =>
        {
            o.EnforceFencing = true;
            o.FenceTable = "fence;--";
        }).Build());

    [Fact]
    public void AddMySqlTransaction_Snapshot_OptionsChangedLaterDoNotLeakIn()
    {
        var options = new MySqlTransactionOptions { ConnectionString = ConnectionString };
        var builder = new LockPipelineBuilder().AddMySqlTransaction(options);
        options.Name = "";
        Assert.Equal(["mysql-transaction"], builder.Build().StageNames);
    }

    [Fact]
    public void FenceTableDdl_Default_CreatesTableIfNotExists()
    {
        var ddl = new MySqlTransactionOptions().FenceTableDdl();
        Assert.StartsWith("CREATE TABLE IF NOT EXISTS `duallock_fence`", ddl, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public void ConflictRetry_MaxAttemptsOutOfRange_ThrowsAtBuild(int attempts)
        => Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { ConflictRetry = new ConflictRetryOptions { MaxAttempts = attempts } }.AddMySqlTransaction(ConnectionString).Build());

    [Fact]
    public void AddMySqlNamedLock_LongPrefix_Throws()
        => Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddMySqlNamedLock(ConnectionString, o => o.Prefix = new string('p', 33)).Build());
}
