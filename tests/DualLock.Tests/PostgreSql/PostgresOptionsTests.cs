using System.Data;
using DualLock.PostgreSql;

namespace DualLock.Tests.PostgreSql;

/// <summary>Every invalid option of the PostgreSQL stages fails when the pipeline is built, naming the stage and the option.</summary>
public sealed class PostgresOptionsTests
{
    private const string ConnectionString = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d";

    [Fact]
    public void AddPostgresTransaction_MissingConnectionString_NamesStageAndOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "p" }.AddPostgresTransaction(new PostgresTransactionOptions()).Build());

        Assert.StartsWith("Pipeline 'p', stage 'postgres-transaction': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- PostgresTransactionOptions.ConnectionString must not be empty (was null).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresTransaction_MalformedConnectionString_NamesTheOptionButNotThePassword()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction("Host=h;Password=hunter2;Colour=blue").Build());

        Assert.Contains("PostgresTransactionOptions.ConnectionString must be a valid Npgsql connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IsolationLevel.Snapshot)]
    [InlineData(IsolationLevel.ReadUncommitted)]
    [InlineData(IsolationLevel.Chaos)]
    public void AddPostgresTransaction_UnsupportedIsolationLevel_NamesTheOption(IsolationLevel level)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString, o => o.IsolationLevel = level).Build());

        Assert.Contains("PostgresTransactionOptions.IsolationLevel must be ReadCommitted, RepeatableRead or Serializable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresTransaction_FencingWithUnsafeFenceTable_NamesTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString, o =>
        {
            o.EnforceFencing = true;
            o.FenceTable = "fence;--";
        }).Build());

        Assert.Contains("PostgresTransactionOptions.FenceTable must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresTransaction_FencingWithoutATokenIssuer_IsRefusedAtBuild()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString, o => o.EnforceFencing = true).Build());

        Assert.Contains("enforces fencing tokens, but no stage added before it issues one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FenceTableDdl_Default_CreatesTheQuotedTableIfNotExists()
    {
        var ddl = new PostgresTransactionOptions().FenceTableDdl();

        Assert.StartsWith("CREATE TABLE IF NOT EXISTS \"duallock_fence\"", ddl, StringComparison.Ordinal);
        Assert.Contains("PRIMARY KEY", ddl, StringComparison.Ordinal);
    }

    [Fact]
    public void FenceTableDdl_UnsafeName_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgresTransactionOptions { FenceTable = "f\"; DROP TABLE x; --" }.FenceTableDdl());

        Assert.Contains("Stage 'postgres-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("FenceTable must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("account; DROP TABLE x", "id", "Table")]
    [InlineData("account", "id\"", "KeyColumn")]
    [InlineData("", "id", "Table")]
    [InlineData("1account", "id", "Table")]
    [InlineData("account", "key column", "KeyColumn")]
    public void AddPostgresRowLock_UnsafeIdentifier_NamesStageAndOption(string table, string column, string option)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "p" }.AddPostgresTransaction(ConnectionString).AddPostgresRowLock(table, column).Build());

        Assert.StartsWith("Pipeline 'p', stage 'postgres-row-lock': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"- PostgresRowLockOptions.{option} must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresRowLock_UnsafeSchema_NamesTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString).AddPostgresRowLock("account", "id", o => o.Schema = "public.x").Build());

        Assert.Contains("PostgresRowLockOptions.Schema must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresRowLock_WithoutTransaction_IsRefusedAtBuild()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder().AddPostgresRowLock("account", "id").Build());

        Assert.Contains("locks inside a transaction, but no stage added before it opens one", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void AddPostgresAdvisoryLock_EmptyNamespace_NamesTheOption(string? ns)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString).AddPostgresAdvisoryLock(o => o.Namespace = ns!).Build());

        Assert.Contains("stage 'postgres-advisory-lock'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PostgresAdvisoryLockOptions.Namespace must not be empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresAdvisoryLock_NamespaceOver64Characters_NamesTheOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddPostgresTransaction(ConnectionString).AddPostgresAdvisoryLock(o => o.Namespace = new string('n', 65)).Build());

        Assert.Contains("PostgresAdvisoryLockOptions.Namespace must be at most 64 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPostgresAdvisoryLock_Namespace64Characters_Builds()
        => Assert.Equal(
            ["postgres-transaction", "postgres-advisory-lock"],
            new LockPipelineBuilder().AddPostgresTransaction(ConnectionString).AddPostgresAdvisoryLock(o => o.Namespace = new string('n', 64)).Build().StageNames);

    [Fact]
    public void AddPostgresTransaction_Snapshot_OptionsChangedLaterDoNotLeakIn()
    {
        var options = new PostgresTransactionOptions { ConnectionString = ConnectionString };
        var builder = new LockPipelineBuilder().AddPostgresTransaction(options);
        options.Name = "";

        Assert.Equal(["postgres-transaction"], builder.Build().StageNames);
    }
}
