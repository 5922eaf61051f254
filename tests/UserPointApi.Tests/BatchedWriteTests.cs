using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>
/// The balance change and its ledger entry go to the server in one batch (one round trip); a refused
/// write must leave neither, in every write mode: atomic (update, read and entry in one batch),
/// read-modify-write (pessimistic) and compare-and-set (optimistic).
/// </summary>
public sealed class BatchedWriteTests(SharedDatabaseFixture fixture) : IClassFixture<SharedDatabaseFixture>
{
    [Theory]
    [InlineData("atomic")]
    [InlineData("pessimistic")]
    [InlineData("optimistic")]
    public async Task RefusedWrite_Batched_LeavesNoLedgerEntryAndAcceptedWritesAddUp(string strategy)
    {
        var settings = new Dictionary<string, string> { ["Locking__Strategy"] = strategy, ["Points__MaxBalance"] = "1000" };
        await using var api = await ApiProcess.StartAsync(fixture.Database.ConnectionString, settings);
        var client = new ApiClient(ApiFixture.Http, api.Url);
        var id = await client.CreateUserAsync();

        var charged = await client.ChargeAsync(id, 100);
        var overdrawn = await client.UseAsync(id, 101);
        var overflow = await client.ChargeAsync(id, 901);
        var used = await client.UseAsync(id, 40);

        Assert.Equal((HttpStatusCode.OK, 100L), (charged.Status, charged.Amount));
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (overdrawn.Status, overdrawn.Code));
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_AMOUNT_OVERFLOW"), (overflow.Status, overflow.Code));
        Assert.Equal((HttpStatusCode.OK, 60L), (used.Status, used.Amount));
        Assert.Equal((60L, 60L, 2L, true), await client.AuditAsync(id));
        Assert.True(
            used.Data.GetProperty("updatedAt").GetDateTime() >= charged.Data.GetProperty("updatedAt").GetDateTime(),
            $"{strategy}: the later write's timestamp {used.Data.GetProperty("updatedAt")} is before the earlier one's {charged.Data.GetProperty("updatedAt")}");
    }

    [Fact]
    public async Task Charge_UnknownUser_Atomic_Is404()
    {
        var settings = new Dictionary<string, string> { ["Locking__Strategy"] = "atomic" };
        await using var api = await ApiProcess.StartAsync(fixture.Database.ConnectionString, settings);
        var client = new ApiClient(ApiFixture.Http, api.Url);

        var response = await client.ChargeAsync(Guid.NewGuid().ToString(), 5);

        Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_NOT_FOUND"), (response.Status, response.Code));
    }
}
