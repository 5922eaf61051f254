using Dapper;
using DualLock.PostgreSql;
using Npgsql;

namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// The transaction-scoped advisory lock: two executions on one key exclude each other, different keys do not, and the
/// server drops the lock when the transaction commits or rolls back. Held and waiting locks are read from pg_locks,
/// so no assertion depends on timing.
/// </summary>
public sealed class PostgresAdvisoryLockTests
{
    private const string Namespace = "duallock-it";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LockPipeline Pipeline(string name)
        => new LockPipelineBuilder { Name = name, WaitTimeout = TimeSpan.FromSeconds(10) }
            .AddPostgresTransaction(Servers.Postgres)
            .AddPostgresAdvisoryLock(o => o.Namespace = Namespace)
            .Build();

    private static LockKey NewKey() => new("job", $"j{Guid.NewGuid():N}");

    [Fact]
    public async Task SameKey_TryOnceWhileAnotherHolds_IsNotAcquiredAndTheWorkDoesNotRun()
    {
        var key = NewKey();
        await using var holder = await Holder.StartAsync(Pipeline("first"), key);
        Assert.Equal(1, await AdvisoryLocksAsync(key, granted: true));
        var workRan = false;

        var acquired = await Pipeline("second").TryExecuteAsync(key, (_, _) =>
        {
            workRan = true;
            return ValueTask.CompletedTask;
        }, TimeSpan.Zero, Ct);

        Assert.False(acquired);
        Assert.False(workRan);
    }

    [Fact]
    public async Task SameKey_BoundedWaitWhileAnotherHolds_TimesOutWith55P03()
    {
        var key = NewKey();
        await using var holder = await Holder.StartAsync(Pipeline("first"), key);

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(async () =>
            await Pipeline("second").ExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.FromMilliseconds(300), Ct));

        Assert.Equal("postgres-advisory-lock", ex.Stage);
        Assert.Equal(PostgresErrors.LockNotAvailable, Assert.IsType<PostgresException>(ex.InnerException).SqlState);
    }

    /// <summary>The second execution is seen waiting in pg_locks while the first holds, and its work starts only after the first committed.</summary>
    [Fact]
    public async Task SameKey_SecondWaitsAndRunsOnlyAfterTheFirstCommits()
    {
        var key = NewKey();
        var order = new List<string>();
        var holder = await Holder.StartAsync(Pipeline("first"), key, () => { lock (order) { order.Add("first done"); } });

        var second = Task.Run(async () => await Pipeline("second").ExecuteAsync(key, (_, _) =>
        {
            lock (order)
            {
                order.Add("second ran");
            }

            return ValueTask.CompletedTask;
        }, TimeSpan.FromSeconds(20), CancellationToken.None));
        await WaitUntilAsync(async () => await AdvisoryLocksAsync(key, granted: false) == 1, () => second.IsCompleted);

        Assert.Empty(order);
        await holder.DisposeAsync();
        await second.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(["first done", "second ran"], order);
        Assert.Equal(0, await AdvisoryLocksAsync(key, granted: true));
    }

    [Fact]
    public async Task DifferentKeys_DoNotBlockEachOther()
    {
        await using var holder = await Holder.StartAsync(Pipeline("first"), NewKey());

        var acquired = await Pipeline("second").TryExecuteAsync(NewKey(), (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct);

        Assert.True(acquired);
    }

    [Fact]
    public async Task Commit_ReleasesTheLock()
    {
        var key = NewKey();
        var holder = await Holder.StartAsync(Pipeline("first"), key);
        Assert.False(await Pipeline("probe").TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));

        await holder.DisposeAsync();

        Assert.Equal(0, await AdvisoryLocksAsync(key, granted: true));
        Assert.True(await Pipeline("probe").TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));
    }

    [Fact]
    public async Task Rollback_ReleasesTheLock()
    {
        var key = NewKey();
        var holder = await Holder.StartAsync(Pipeline("first"), key, () => throw new InvalidOperationException("the work fails"));
        Assert.False(await Pipeline("probe").TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await holder.DisposeAsync());

        Assert.Equal(0, await AdvisoryLocksAsync(key, granted: true));
        Assert.True(await Pipeline("probe").TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));
    }

    /// <summary>A set tries every key; one held elsewhere makes the whole set not acquired, and the keys it did take are let go.</summary>
    [Fact]
    public async Task KeySet_OneKeyHeldElsewhere_NotAcquiredAndTheOtherKeysAreNotKept()
    {
        var held = NewKey();
        var free = NewKey();
        await using var holder = await Holder.StartAsync(Pipeline("first"), held);

        var acquired = await Pipeline("set").TryExecuteAsync(new[] { free, held }, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct);

        Assert.False(acquired);
        Assert.Equal(0, await AdvisoryLocksAsync(free, granted: true));
        Assert.True(await Pipeline("probe").TryExecuteAsync(free, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));
    }

    /// <summary>The namespace is part of the id: the same key in two namespaces is two locks.</summary>
    [Fact]
    public async Task SameKey_OtherNamespace_DoesNotBlock()
    {
        var key = NewKey();
        await using var holder = await Holder.StartAsync(Pipeline("first"), key);
        var other = new LockPipelineBuilder { Name = "other-app" }
            .AddPostgresTransaction(Servers.Postgres)
            .AddPostgresAdvisoryLock(o => o.Namespace = "another-app")
            .Build();

        Assert.True(await other.TryExecuteAsync(key, (_, _) => ValueTask.CompletedTask, TimeSpan.Zero, Ct));
    }

    /// <summary>Advisory locks on the key's 64-bit id in this database (a bigint key is classid = high half, objid = low half, objsubid = 1).</summary>
    private static async Task<long> AdvisoryLocksAsync(LockKey key, bool granted)
    {
        await using var connection = await Servers.OpenPostgresAsync(Ct);
        return await connection.ExecuteScalarAsync<long>(
            """
            SELECT COUNT(*) FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = 1 AND granted = @granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((classid::bigint << 32) | objid::bigint) = @id
            """,
            new { id = AdvisoryLockId.For(Namespace, key), granted });
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<bool> failedEarly)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.False(failedEarly(), "the second execution finished while the first held the lock");
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 20 s");
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>An execution that holds the key inside its work until disposed; then its work ends (running <c>atEnd</c>) and it commits or rolls back.</summary>
    private sealed class Holder : IAsyncDisposable
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _run = Task.CompletedTask;

        public static async Task<Holder> StartAsync(LockPipeline pipeline, LockKey key, Action? atEnd = null)
        {
            var holder = new Holder();
            var holds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            holder._run = Task.Run(async () => await pipeline.ExecuteAsync(key, async (_, _) =>
            {
                holds.SetResult();
                await holder._release.Task.WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
                atEnd?.Invoke();
            }, cancellationToken: CancellationToken.None));
            await Task.WhenAny(holds.Task, holder._run).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            if (holder._run.IsCompleted)
            {
                await holder._run; // surfaces why it did not get the lock
            }

            return holder;
        }

        public async ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            await _run.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
