using System.Net;
using DualLock.IntegrationTests;
using DualLock.MySql;

namespace DualLock.AspNetCore.Tests.Endpoints;

/// <summary>
/// Committed, then an outer lock's release failed: the pipeline returns the work's result (docs/failures.md), so the
/// client is told the write happened, not a 500 it would retry.
/// </summary>
public sealed class WithLockReleaseFailureTests
{
    [Fact]
    public async Task WithLock_OuterLockReleaseFailsAfterTheCommit_AnswersTheHandlersSuccessAndTheWriteStays()
    {
        await using var table = await PointTable.CreateAsync(7);
        var outer = new ReleaseFailingStage();
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddDualLock().AddPipeline("charge", p => p
                .AddStage(outer)
                .AddMySqlTransaction(Servers.MySql)
                .AddMySqlRowLock(table.Name, "id")),
            a => LockedPoints.Map(a, table));

        var response = await app.Client.PostAsync("/points/7/ok", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await table.AmountAsync(7));
        Assert.Equal(1, outer.FailedReleases); // the negative control: the release did fail
    }

    /// <summary>A lock stage whose release fails, as a Redis release refused with -NOREPLICAS does.</summary>
    private sealed class ReleaseFailingStage() : LockStage("release-fails")
    {
        private int _failed;

        public int FailedReleases => Volatile.Read(ref _failed);

        protected override LockStageTraits Traits => LockStageTraits.Excludes;

        public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
            => ValueTask.FromResult<LockStageHandle?>(new Handle(this));

        private sealed class Handle(ReleaseFailingStage stage) : LockStageHandle
        {
            public override ValueTask ReleaseAsync(bool workSucceeded)
            {
                Interlocked.Increment(ref stage._failed);
                throw new InvalidOperationException("injected: the lock's release failed after the commit");
            }
        }
    }
}
