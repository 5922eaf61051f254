using DualLock.Testing;

namespace DualLock.Tests.Testing;

public sealed class LockContextBuilderTests
{
    private static readonly LockKey From = new("user-point", 1L);
    private static readonly LockKey To = new("user-point", 2L);

    [Fact]
    public void Build_Defaults_LikeAFirstExecution()
    {
        var context = new LockContextBuilder(From).Build();

        Assert.Equal(new LockKeySet(From), context.Keys);
        Assert.Equal("test", context.PipelineName);
        Assert.Equal(TimeSpan.FromSeconds(2), context.WaitTimeout);
        Assert.Equal(1, context.Attempt);
        Assert.False(context.RerunsOnConflict);
        Assert.Null(context.FencingToken);
        Assert.False(context.LeaseLost.IsCancellationRequested);
        Assert.Null(context.LeaseLostStage);
    }

    [Fact]
    public void Build_WithEverything_TheContextCarriesIt()
    {
        var feature = new object();
        var context = new LockContextBuilder([To, From])
            .WithPipelineName("transfer")
            .WithWaitTimeout(TimeSpan.FromMilliseconds(250))
            .WithFencingToken(From, 7)
            .WithFencingToken(To, 9)
            .WithFeature(feature)
            .WithAttempt(3)
            .Build();

        Assert.Equal([From, To], context.Keys);
        Assert.Equal("transfer", context.PipelineName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), context.WaitTimeout);
        Assert.Equal(7, context.GetFencingToken(From));
        Assert.Equal(9, context.GetFencingToken(To));
        Assert.Same(feature, context.GetRequiredFeature<object>());
        Assert.Equal(3, context.Attempt);
        Assert.True(context.RerunsOnConflict);
    }

    [Fact]
    public void Build_WithLeaseLost_TokenFiredAndStageNamed()
    {
        var context = new LockContextBuilder(From).WithFencingToken(4).WithLeaseLost("redis").Build();

        Assert.True(context.LeaseLost.IsCancellationRequested);
        Assert.Equal("redis", context.LeaseLostStage);
        Assert.Equal(4, context.FencingToken);
    }

    [Fact]
    public void BadInput_ClearExceptions()
    {
        Assert.Throws<ArgumentException>(() => new LockContextBuilder(default));
        var many = new LockContextBuilder([From, To]);
        var single = Assert.Throws<InvalidOperationException>(() => many.WithFencingToken(3));
        Assert.Contains("WithFencingToken(key, token)", single.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new LockContextBuilder(From).WithFencingToken(To, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LockContextBuilder(From).WithWaitTimeout(TimeSpan.FromMinutes(11)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LockContextBuilder(From).WithAttempt(0));
        Assert.Throws<ArgumentNullException>(() => new LockContextBuilder(From).WithFeature<object>(null!));
    }
}
