using System.Data;
using DualLock.MySql;

namespace DualLock.Tests.Options;

/// <summary>One validation path: every options class reports every problem, named by its path, when its stage is added.</summary>
public sealed class OptionsValidationTests
{
    private const string ConnectionString = "Server=127.0.0.1;User ID=u;Password=p;Database=d";

    public static TheoryData<LockStageOptions, string> InvalidStageOptions => new()
    {
        { new InProcessLockOptions { MaxQueueLength = 0 }, "InProcessLockOptions.MaxQueueLength must be at least 1 (was 0)." },
        { new SemaphoreOptions { Permits = 0 }, "SemaphoreOptions.Permits must be at least 1 (was 0)." },
        { new SemaphoreOptions { Permits = 4, MaxQueueLength = 3 }, "SemaphoreOptions.MaxQueueLength must be at least Permits (4) (was 3)." },
        { new SemaphoreOptions { Name = "" }, "SemaphoreOptions.Name must not be empty (was '')." },
        { new MySqlTransactionOptions(), "MySqlTransactionOptions.ConnectionString must not be empty (was null)." },
        { new MySqlTransactionOptions { ConnectionString = ConnectionString, IsolationLevel = IsolationLevel.Snapshot }, "MySqlTransactionOptions.IsolationLevel must be ReadUncommitted, ReadCommitted, RepeatableRead or Serializable (was Snapshot)." },
        { new MySqlTransactionOptions { ConnectionString = ConnectionString, EnforceFencing = true, FenceTable = "f;" }, "MySqlTransactionOptions.FenceTable must be a plain SQL identifier (a letter or '_', then letters, digits or '_', at most 64 characters) (was 'f;')." },
        { new MySqlRowLockOptions { Table = "t", KeyColumn = "1id" }, "MySqlRowLockOptions.KeyColumn must be a plain SQL identifier (a letter or '_', then letters, digits or '_', at most 64 characters) (was '1id')." },
        { new MySqlRowLockOptions { Sql = "SELECT 1 FROM t FOR UPDATE", Table = "t" }, "MySqlRowLockOptions.Sql must not be set together with Table and KeyColumn: set one or the other (was 'SELECT 1 FROM t FOR UPDATE')." },
        { new MySqlRowLockOptions { Table = "t", KeyColumn = "id", WaitMode = (MySqlRowLockWaitMode)42 }, "MySqlRowLockOptions.WaitMode must be a defined MySqlRowLockWaitMode (was 42)." },
        { new MySqlRowLockOptions { Table = "t", KeyColumn = "id", RetryDelay = TimeSpan.FromMilliseconds(200) }, "MySqlRowLockOptions.RetryDelay must be between 1 ms and 100 ms (was 200 ms); the upper bound is MaxRetryDelay." },
        { new MySqlRowLockOptions { Table = "t", KeyColumn = "id", MaxRetryDelay = TimeSpan.FromSeconds(11) }, "MySqlRowLockOptions.MaxRetryDelay must be between 1 ms and 10 s (was 11 s)." },
        { new MySqlNamedLockOptions { ConnectionString = ConnectionString, Prefix = new string('p', 33) }, $"MySqlNamedLockOptions.Prefix must be set and at most 32 characters long (was '{new string('p', 33)}')." },
        { new MySqlNamedLockOptions { ConnectionString = " " }, "MySqlNamedLockOptions.ConnectionString must not be empty (was ' ')." },
    };

    [Theory]
    [MemberData(nameof(InvalidStageOptions))]
    public void Validate_InvalidOption_ReportsOneMessageNamingPathRuleAndValue(LockStageOptions options, string message)
        => Assert.Equal([message], options.Validate());

    [Fact]
    public void AddStage_SeveralInvalidOptions_OneExceptionListsEveryProblem()
    {
        var options = new MySqlRowLockOptions { Name = " ", Table = "a b", KeyColumn = null, MaxRetryDelay = TimeSpan.FromMinutes(1) };

        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = "charge" }.AddMySqlRowLock(options));

        Assert.Equal("options", ex.ParamName);
        var lines = ex.Message.Split(Environment.NewLine);
        Assert.Equal("Pipeline 'charge', stage ' ': 4 invalid option problems:", lines[0]);
        Assert.Equal("- MySqlRowLockOptions.Name must not be empty (was ' ').", lines[1]);
        Assert.StartsWith("- MySqlRowLockOptions.Table must be a plain SQL identifier", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("- MySqlRowLockOptions.KeyColumn must be a plain SQL identifier", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("- MySqlRowLockOptions.MaxRetryDelay must be between 1 ms and 10 s (was 00:01:00).", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void AddStage_InvalidOptions_ThrowsWhenAddedNotWhenBuilt()
    {
        var builder = new LockPipelineBuilder();
        Assert.Throws<ArgumentException>(() => builder.AddMySqlTransaction(new MySqlTransactionOptions()));

        // Nothing was added: the builder still has no stage.
        Assert.Equal(0, builder.StageCount);
    }

    [Fact]
    public void AddStage_ValidatesTheCopyOnceAndNeverAgain()
    {
        var options = new CountingOptions();
        var builder = new LockPipelineBuilder().AddStage(options, static (_, o) => new NoOpStage(o.Name));
        Assert.Equal(0, options.Validations); // the caller's instance is not the one validated
        builder.Build();

        Assert.Equal(1, CountingOptions.CopiesValidated);
    }

    [Fact]
    public void AddInProcessSemaphore_InvalidOptions_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder().AddInProcessSemaphore(new SemaphoreOptions { Name = "", Permits = 0 }));

        Assert.Contains("- SemaphoreOptions.Name must not be empty (was '').", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- SemaphoreOptions.Permits must be at least 1 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReaderWriterLock_InvalidOptions_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReaderWriterLockStrategy.CreateInProcess(
            new ReaderWriterLockOptions { Name = "", WaitTimeout = TimeSpan.FromHours(1), MaxQueueLength = 0 }));

        Assert.StartsWith("Reader-writer lock '': 3 invalid option problems:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- ReaderWriterLockOptions.Name must not be empty (was '').", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- ReaderWriterLockOptions.WaitTimeout must be between 00:00:00 and 00:10:00 (was 01:00:00); waits are bounded.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- ReaderWriterLockOptions.MaxQueueLength must be at least 1 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MySqlOptimisticOptions_InvalidOptions_ListsEveryProblem()
    {
        var problems = new List<string>();
        new MySqlOptimisticOptions { MaxAttempts = 0 }.Validate(problems);
        var ex = Assert.Throws<ArgumentException>(() => OptionChecks.ThrowIfAny(problems, "Strategy 'x'"));

        Assert.Contains("- MySqlOptimisticOptions.ConnectionString must not be empty (was null).", ex.Message, StringComparison.Ordinal);
        Assert.Contains("- MySqlOptimisticOptions.MaxAttempts must be between 1 and 10000 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nested_PrefixesTheInnerPathStructurally()
    {
        var problems = new List<string>();
        var outer = OptionChecks.For(new SemaphoreOptions(), problems);

        outer.Nested("Inner").AtLeast("Count", 0, 1);

        Assert.Equal(["SemaphoreOptions.Inner.Count must be at least 1 (was 0)."], problems);
    }

    [Fact]
    public void FenceTableDdl_UnsafeTable_ThrowsWithTheSameRule()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MySqlTransactionOptions { FenceTable = "x y" }.FenceTableDdl());
        Assert.Contains("- MySqlTransactionOptions.FenceTable must be a plain SQL identifier", ex.Message, StringComparison.Ordinal);
    }

    private sealed class CountingOptions() : LockStageOptions("counting")
    {
        public static int CopiesValidated;

        public int Validations { get; private set; }

        protected override void Validate(ICollection<string> problems)
        {
            base.Validate(problems);
            Validations++;
            Interlocked.Increment(ref CopiesValidated);
        }
    }

    private sealed class NoOpStage(string name) : LockStage(name)
    {
        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => throw new NotSupportedException();
    }
}
