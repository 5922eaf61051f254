using System.Reflection;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.Tests.Pipeline;

/// <summary>Compositions that cannot be safe fail at Build() with a message that says why and what to do.</summary>
public sealed class CompositionRulesTests
{
    private const string ConnectionString = "Server=127.0.0.1;Port=1;User ID=u;Password=p;Database=d";
    private static readonly IConnectionMultiplexer Redis = UnusedConnection.Create();

    [Fact]
    public void Dual_DatabasePartWithoutLock_DoesNotBuild()
    {
        // A bare transaction inside an optional Redis lock: on a Redis outage the work would run unlocked and unfenced.
        var builder = new LockPipelineBuilder { Name = "charge" }
            .AddDual(EmptyServices.Instance, (b, _) => b.AddRedisLock(Redis), (b, _) => b.AddMySqlTransaction(ConnectionString));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Stage 'redis' of pipeline 'charge' continues when its lock service is unavailable, but no stage inside it locks the key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dual_DatabasePartWithRowLock_Builds()
    {
        var pipeline = new LockPipelineBuilder { Name = "charge" }
            .AddDual(
                EmptyServices.Instance,
                (b, _) => b.AddRedisLock(Redis),
                (b, _) => b.AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true).AddMySqlRowLock("account", "id"))
            .Build();

        Assert.Equal(["redis", "mysql-transaction", "mysql-row-lock"], pipeline.StageNames);
    }

    [Fact]
    public void RedisLock_InsideTransaction_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }
            .AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true)
            .AddRedisLock(Redis);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Stage 'redis' of pipeline 'charge' is inside the transaction of stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Add it before the transaction stage", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redlock_InsideTransaction_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }
            .AddMySqlTransaction(ConnectionString)
            .AddStage(new RedlockStage([Redis, Redis, Redis]));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("is inside the transaction of stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NamedLock_InsideTransaction_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "report" }
            .AddMySqlTransaction(ConnectionString)
            .AddMySqlNamedLock(ConnectionString);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Stage 'mysql-named-lock' of pipeline 'report' is inside the transaction of stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InProcessLock_InsideTransaction_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }
            .AddMySqlTransaction(ConnectionString)
            .AddInProcessLock();

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("is inside the transaction of stage 'mysql-transaction'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RowLock_WithoutTransaction_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }.AddMySqlRowLock("account", "id");

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Stage 'mysql-row-lock' of pipeline 'charge' locks inside a transaction, but no stage added before it opens one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FencedTransaction_WithoutTokenIssuer_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder { Name = "charge" }
            .AddInProcessLock()
            .AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("Stage 'mysql-transaction' of pipeline 'charge' enforces fencing tokens, but no stage added before it issues one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SafeCompositions_Build()
    {
        new LockPipelineBuilder().AddMySqlTransaction(ConnectionString).AddMySqlRowLock("account", "id").Build();
        new LockPipelineBuilder().AddMySqlNamedLock(ConnectionString).AddMySqlTransaction(ConnectionString).Build();
        new LockPipelineBuilder().AddRedisLock(Redis).AddMySqlTransaction(ConnectionString, o => o.EnforceFencing = true).Build();
        new LockPipelineBuilder().AddInProcessLock().AddRedisLock(Redis).AddMySqlTransaction(ConnectionString).AddMySqlRowLock("account", "id").Build();
        new LockPipelineBuilder().AddNoLock().Build();
    }

    [Fact]
    public void CustomStage_DeclaringItLocks_SatisfiesTheFallbackRule()
    {
        var log = new List<string>();
        var pipeline = new LockPipelineBuilder()
            .AddRedisLock(Redis)
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("custom", log) { DeclaredTraits = LockStageTraits.Excludes })
            .Build();

        Assert.Equal(["redis", "custom"], pipeline.StageNames);
    }

    [Fact]
    public void CustomStage_WithoutTraits_InsideFallback_DoesNotBuild()
    {
        var builder = new LockPipelineBuilder()
            .AddRedisLock(Redis)
            .ContinueIfUnavailable()
            .AddStage(new RecordingStage("custom", []));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("(inside it: custom)", ex.Message, StringComparison.Ordinal);
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }

    /// <summary>A connection that Build() never uses; any call fails loudly.</summary>
    public class UnusedConnection : DispatchProxy
    {
        public static IConnectionMultiplexer Create() => DispatchProxy.Create<IConnectionMultiplexer, UnusedConnection>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            => throw new InvalidOperationException($"Building a pipeline must not use the Redis connection ({targetMethod?.Name}).");
    }
}
