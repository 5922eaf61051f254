namespace DualLock.Tests.Pipeline;

public sealed class LockPipelineBuilderTests
{
    [Fact]
    public void Build_NoStage_ThrowsSuggestingNoLock()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder { Name = "empty" }.Build());
        Assert.Contains("Pipeline 'empty' has no stage", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddNoLock()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicateStageNames_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder().AddInProcessLock().AddInProcessLock().Build());
        Assert.Contains("two stages named 'in-process'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddStage_AfterBuild_Throws()
    {
        var builder = new LockPipelineBuilder().AddNoLock();
        builder.Build();
        Assert.Throws<InvalidOperationException>(() => builder.AddInProcessLock());
    }

    [Fact]
    public void Build_StageNames_ListedOutermostFirst()
    {
        var pipeline = new LockPipelineBuilder { Name = "p", WaitTimeout = TimeSpan.FromSeconds(3) }
            .AddInProcessLock().AddNoLock().Build();

        Assert.Equal(["in-process", "none"], pipeline.StageNames);
        Assert.Equal("p", pipeline.Name);
        Assert.Equal(TimeSpan.FromSeconds(3), pipeline.WaitTimeout);
    }

    [Theory]
    [InlineData(-1, "LockPipelineBuilder.WaitTimeout must be between 00:00:00 and 00:10:00 (was -00:00:00.0010000); waits are bounded.")]
    [InlineData(600_001, "LockPipelineBuilder.WaitTimeout must be between 00:00:00 and 00:10:00 (was 00:10:00.0010000); waits are bounded.")]
    public void Build_InvalidWaitTimeout_ThrowsWithPreciseMessage(int milliseconds, string message)
    {
        var builder = new LockPipelineBuilder { Name = "charge", WaitTimeout = TimeSpan.FromMilliseconds(milliseconds) }.AddNoLock();
        var ex = Assert.Throws<ArgumentException>(builder.Build);
        Assert.StartsWith("Pipeline 'charge': 1 invalid option problem:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_EmptyName_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LockPipelineBuilder { Name = " " }.AddNoLock().Build());
        Assert.Contains("LockPipelineBuilder.Name must not be empty (was ' ').", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContinueIfUnavailable_WithoutStage_Throws()
        => Assert.Throws<InvalidOperationException>(() => new LockPipelineBuilder().ContinueIfUnavailable());
}
