using System.Net;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

public sealed class EndpointTests(EndpointFixture fixture) : IClassFixture<EndpointFixture>
{
    private ApiClient Api => fixture.Client;

    [Fact]
    public async Task CreateUser_AnyBody_ReturnsUuidAndZeroBalanceRow()
    {
        var response = await Api.SendAsync(HttpMethod.Post, "/api/v1/users", "junk the seed sends", "text/plain");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Success);
        var id = response.Data.GetProperty("id").GetString();
        Assert.True(Guid.TryParseExact(id, "D", out _));
        Assert.True(response.Data.TryGetProperty("createdAt", out _));
        Assert.True(response.Data.TryGetProperty("updatedAt", out _));
        Assert.Equal(0, await Api.BalanceAsync(id!));
        Assert.Equal(1, await fixture.Database.ScalarAsync("SELECT COUNT(*) FROM user_points WHERE user_id = @u", ("@u", id!)));
    }

    [Fact]
    public async Task GetUser_KnownUnknownAndMalformed_Answers200_404_400()
    {
        var id = await Api.CreateUserAsync();

        var known = await Api.SendAsync(HttpMethod.Get, $"/api/v1/users/{id}");
        var upper = await Api.SendAsync(HttpMethod.Get, $"/api/v1/users/{id.ToUpperInvariant()}");
        var unknown = await Api.SendAsync(HttpMethod.Get, $"/api/v1/users/{Guid.NewGuid()}");
        var malformed = await Api.SendAsync(HttpMethod.Get, "/api/v1/users/42");

        Assert.Equal(id, known.Data.GetProperty("id").GetString());
        Assert.Equal(id, upper.Data.GetProperty("id").GetString());
        Assert.Equal((HttpStatusCode.NotFound, "USER_NOT_FOUND"), (unknown.Status, unknown.Code));
        Assert.Equal((HttpStatusCode.BadRequest, "G_INVALID_ARG"), (malformed.Status, malformed.Code));
        Assert.False(unknown.Success);
    }

    [Fact]
    public async Task GetPoint_ReturnsTheSeedShape()
    {
        var id = await Api.CreateUserAsync();

        var response = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{id}");

        Assert.True(response.Success);
        Assert.Null(response.Code);
        foreach (var field in new[] { "id", "userId", "amount", "createdAt", "updatedAt" })
        {
            Assert.True(response.Data.TryGetProperty(field, out _), field);
        }

        Assert.Equal(id, response.Data.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task ChargeAndUse_Valid_ReturnNewBalanceAndWriteLedger()
    {
        var id = await Api.CreateUserAsync();

        var charged = await Api.ChargeAsync(id, 1_000);
        var used = await Api.UseAsync(id, 400);
        var all = await Api.UseAsync(id, 600);

        Assert.Equal((HttpStatusCode.OK, 1_000L), (charged.Status, charged.Amount));
        Assert.Equal(600, used.Amount);
        Assert.Equal(0, all.Amount);
        Assert.Equal(id, charged.Data.GetProperty("userId").GetString());
        var audit = await Api.AuditAsync(id);
        Assert.Equal((0L, 0L, 3L, true), audit);
    }

    [Fact]
    public async Task Charge_OutsideOneToMaxCharge_Is400InvalidCharge()
    {
        var id = await Api.CreateUserAsync();

        foreach (var amount in new[] { 0L, -1L, 1_000_001L })
        {
            var response = await Api.ChargeAsync(id, amount);
            Assert.Equal((HttpStatusCode.BadRequest, "USERPOINT_INVALID_CHARGE"), (response.Status, response.Code));
        }

        Assert.Equal(1_000_000, (await Api.ChargeAsync(id, 1_000_000)).Amount);
    }

    [Fact]
    public async Task Use_MoreThanBalance_Is409AndChangesNothing()
    {
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 100);

        var response = await Api.UseAsync(id, 101);

        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (response.Status, response.Code));
        Assert.Equal((100L, 100L, 1L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Charge_BeyondMaxBalance_Is409OverflowAndChangesNothing()
    {
        var id = await Api.CreateUserAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.ChargeAsync(id, 1_000_000)).Status);
        }

        var response = await Api.ChargeAsync(id, 1);

        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_AMOUNT_OVERFLOW"), (response.Status, response.Code));
        Assert.Equal((EndpointFixture.MaxBalance, EndpointFixture.MaxBalance, 5L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Refund_OfAUse_RestoresOnceThenIs409()
    {
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 500);
        var use = await Api.UseAsync(id, 200);

        var refund = await Api.RefundAsync(id, use.TransactionId);
        var again = await Api.RefundAsync(id, use.TransactionId);

        Assert.Equal((HttpStatusCode.OK, 500L), (refund.Status, refund.Amount));
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_ALREADY_REFUNDED"), (again.Status, again.Code));
        Assert.Equal((500L, 500L, 3L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Refund_UnknownChargeOrOtherUsersTransaction_Is409TransactionNotFound()
    {
        var id = await Api.CreateUserAsync();
        var other = await Api.CreateUserAsync();
        var charge = await Api.ChargeAsync(id, 500);
        await Api.ChargeAsync(other, 500);
        var otherUse = await Api.UseAsync(other, 100);

        foreach (var transaction in new[] { Guid.NewGuid().ToString(), charge.TransactionId, otherUse.TransactionId })
        {
            var response = await Api.RefundAsync(id, transaction);
            Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_TRANSACTION_NOT_FOUND"), (response.Status, response.Code));
        }

        Assert.Equal((500L, 500L, 1L, true), await Api.AuditAsync(id));
        Assert.Equal(400, await Api.BalanceAsync(other));
    }

    [Fact]
    public async Task Writes_UnknownUser_Are404()
    {
        var unknown = Guid.NewGuid().ToString();

        var charge = await Api.ChargeAsync(unknown, 1);
        var use = await Api.UseAsync(unknown, 1);
        var refund = await Api.RefundAsync(unknown, Guid.NewGuid().ToString());
        var get = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{unknown}");
        var histories = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{unknown}/histories");
        var audit = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{unknown}/audit");

        foreach (var response in new[] { charge, use, refund, get, histories, audit })
        {
            Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_NOT_FOUND"), (response.Status, response.Code));
        }

        Assert.Equal(0, await fixture.Database.ScalarAsync("SELECT COUNT(*) FROM point_ledger WHERE user_id = @u", ("@u", unknown)));
    }

    [Fact]
    public async Task Histories_NewestFirstAndPaged()
    {
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 100);
        var use = await Api.UseAsync(id, 30);
        await Api.RefundAsync(id, use.TransactionId);

        var first = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{id}/histories?page=1&size=2");
        var second = await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{id}/histories?page=2&size=2");

        var items = first.Data.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(3, first.Data.GetProperty("total").GetInt64());
        Assert.Equal(["refund", "use"], items.Select(i => i.GetProperty("type").GetString()));
        Assert.Equal([30L, -30L], items.Select(i => i.GetProperty("amount").GetInt64()));
        Assert.Equal([100L, 70L], items.Select(i => i.GetProperty("balanceAfter").GetInt64()));
        Assert.Equal(use.TransactionId, items[0].GetProperty("refundOf").GetString());
        Assert.True(items[0].TryGetProperty("createdAt", out _));
        var last = Assert.Single(second.Data.GetProperty("items").EnumerateArray());
        Assert.Equal("charge", last.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Idempotency_SameKeySameBody_ReplaysFirstResponseOnce()
    {
        var id = await Api.CreateUserAsync();
        var key = Guid.NewGuid().ToString();

        var first = await Api.ChargeAsync(id, 300, key);
        var repeat = await Api.SendAsync(HttpMethod.Post, $"/api/v1/user-points/{id}/charge", "{ \"amount\" : 300 }", idempotencyKey: key);

        Assert.Equal(HttpStatusCode.OK, repeat.Status);
        Assert.Equal(first.Body, repeat.Body);
        Assert.Contains("true", repeat.Headers.GetValues("Idempotency-Replayed"));
        Assert.Equal((300L, 300L, 1L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Idempotency_SameKeyDifferentBodyOrUser_Is409Conflict()
    {
        var id = await Api.CreateUserAsync();
        var other = await Api.CreateUserAsync();
        var key = Guid.NewGuid().ToString();
        await Api.ChargeAsync(id, 300, key);

        var differentAmount = await Api.ChargeAsync(id, 301, key);
        var differentOperation = await Api.UseAsync(id, 300, key);
        var differentUser = await Api.ChargeAsync(other, 300, key);

        foreach (var response in new[] { differentAmount, differentOperation, differentUser })
        {
            Assert.Equal((HttpStatusCode.Conflict, "IDEMPOTENCY_CONFLICT"), (response.Status, response.Code));
        }

        Assert.Equal((300L, 300L, 1L, true), await Api.AuditAsync(id));
        Assert.Equal(0, await Api.BalanceAsync(other));
    }

    [Fact]
    public async Task Idempotency_DomainErrorIsReplayedToo()
    {
        var id = await Api.CreateUserAsync();
        var key = Guid.NewGuid().ToString();

        var first = await Api.UseAsync(id, 50, key);
        await Api.ChargeAsync(id, 100);
        var repeat = await Api.UseAsync(id, 50, key);

        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (first.Status, first.Code));
        Assert.Equal(first.Body, repeat.Body);
        Assert.Equal(HttpStatusCode.Conflict, repeat.Status);
        Assert.Equal(100, await Api.BalanceAsync(id));
    }

    [Fact]
    public async Task Idempotency_RefundWithKey_RefundsOnce()
    {
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 100);
        var use = await Api.UseAsync(id, 60);
        var key = Guid.NewGuid().ToString();

        var first = await Api.RefundAsync(id, use.TransactionId, key);
        var repeat = await Api.RefundAsync(id, use.TransactionId, key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(first.Body, repeat.Body);
        Assert.Equal((100L, 100L, 3L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Transfer_Valid_MovesPointsAndWritesBothLedgerEntries()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 1_000);
        await Api.ChargeAsync(to, 50);

        var response = await Api.TransferAsync(from, to, 300);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(300, response.Amount);
        var sender = response.Data.GetProperty("from");
        var receiver = response.Data.GetProperty("to");
        Assert.Equal((from, 700L), (sender.GetProperty("userId").GetString(), sender.GetProperty("amount").GetInt64()));
        Assert.Equal((to, 350L), (receiver.GetProperty("userId").GetString(), receiver.GetProperty("amount").GetInt64()));
        Assert.Equal((700L, 700L, 2L, true), await Api.AuditAsync(from));
        Assert.Equal((350L, 350L, 2L, true), await Api.AuditAsync(to));
        var outEntry = (await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{from}/histories?size=1")).Data.GetProperty("items")[0];
        var inEntry = (await Api.SendAsync(HttpMethod.Get, $"/api/v1/user-points/{to}/histories?size=1")).Data.GetProperty("items")[0];
        Assert.Equal(("transfer-out", -300L, 700L), (outEntry.GetProperty("type").GetString(), outEntry.GetProperty("amount").GetInt64(), outEntry.GetProperty("balanceAfter").GetInt64()));
        Assert.Equal(("transfer-in", 300L, 350L), (inEntry.GetProperty("type").GetString(), inEntry.GetProperty("amount").GetInt64(), inEntry.GetProperty("balanceAfter").GetInt64()));
        Assert.Equal(sender.GetProperty("transactionId").GetString(), outEntry.GetProperty("id").GetString());
        Assert.Equal(receiver.GetProperty("transactionId").GetString(), inEntry.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Transfer_WholeBalanceThenOneMore_SecondIs409AndChangesNothing()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 100);

        var all = await Api.TransferAsync(from, to, 100);
        var overdraft = await Api.TransferAsync(from, to, 1);

        Assert.Equal(HttpStatusCode.OK, all.Status);
        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (overdraft.Status, overdraft.Code));
        Assert.Equal((0L, 0L, 2L, true), await Api.AuditAsync(from));
        Assert.Equal((100L, 100L, 1L, true), await Api.AuditAsync(to));
    }

    [Fact]
    public async Task Transfer_ReceiverAtMaxBalance_Is409OverflowAndChangesNothing()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 10);
        for (var i = 0; i < 5; i++)
        {
            await Api.ChargeAsync(to, 1_000_000);
        }

        var response = await Api.TransferAsync(from, to, 1);

        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_AMOUNT_OVERFLOW"), (response.Status, response.Code));
        Assert.Equal((10L, 10L, 1L, true), await Api.AuditAsync(from));
        Assert.Equal((EndpointFixture.MaxBalance, EndpointFixture.MaxBalance, 5L, true), await Api.AuditAsync(to));
    }

    [Fact]
    public async Task Transfer_UnknownSenderOrReceiver_Is404NamingWhich()
    {
        var known = await Api.CreateUserAsync();
        await Api.ChargeAsync(known, 100);

        var sender = await Api.TransferAsync(Guid.NewGuid().ToString(), known, 1);
        var receiver = await Api.TransferAsync(known, Guid.NewGuid().ToString(), 1);

        Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_NOT_FOUND"), (sender.Status, sender.Code));
        Assert.Equal((HttpStatusCode.NotFound, "USERPOINT_RECEIVER_NOT_FOUND"), (receiver.Status, receiver.Code));
        Assert.Equal((100L, 100L, 1L, true), await Api.AuditAsync(known));
    }

    [Fact]
    public async Task Transfer_ToSelfInAnyCase_Is400SelfTransfer()
    {
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 100);

        var same = await Api.TransferAsync(id, id, 1);
        var upper = await Api.TransferAsync(id, id.ToUpperInvariant(), 1);

        Assert.Equal((HttpStatusCode.BadRequest, "USERPOINT_SELF_TRANSFER"), (same.Status, same.Code));
        Assert.Equal((HttpStatusCode.BadRequest, "USERPOINT_SELF_TRANSFER"), (upper.Status, upper.Code));
        Assert.Equal((100L, 100L, 1L, true), await Api.AuditAsync(id));
    }

    [Fact]
    public async Task Transfer_OutsideOneToMaxCharge_Is400InvalidTransfer()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 1_000_000);
        await Api.ChargeAsync(from, 1_000_000);

        foreach (var amount in new[] { 0L, -1L, 1_000_001L })
        {
            var response = await Api.TransferAsync(from, to, amount);
            Assert.Equal((HttpStatusCode.BadRequest, "USERPOINT_INVALID_TRANSFER"), (response.Status, response.Code));
        }

        Assert.Equal(HttpStatusCode.OK, (await Api.TransferAsync(from, to, 1_000_000)).Status);
        Assert.Equal((1_000_000L, 1_000_000L, 1L, true), await Api.AuditAsync(to));
    }

    [Fact]
    public async Task Idempotency_TransferReplayed_MovesPointsOnce()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 500);
        var key = Guid.NewGuid().ToString();

        var first = await Api.TransferAsync(from, to, 200, key);
        var repeat = await Api.SendAsync(HttpMethod.Post, $"/api/v1/user-points/{from}/transfer", $"{{ \"amount\" : 200, \"toUserId\" : \"{to.ToUpperInvariant()}\" }}", idempotencyKey: key);
        var again = await Api.TransferAsync(from, to, 200, key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.OK, first.Body), (repeat.Status, repeat.Body));
        Assert.Equal(first.Body, again.Body);
        Assert.Contains("true", repeat.Headers.GetValues("Idempotency-Replayed"));
        Assert.Equal((300L, 300L, 2L, true), await Api.AuditAsync(from));
        Assert.Equal((200L, 200L, 1L, true), await Api.AuditAsync(to));
    }

    [Fact]
    public async Task Idempotency_TransferKeyReusedWithAnotherReceiverAmountOrOperation_Is409Conflict()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        var other = await Api.CreateUserAsync();
        await Api.ChargeAsync(from, 500);
        var key = Guid.NewGuid().ToString();
        await Api.TransferAsync(from, to, 200, key);

        var otherReceiver = await Api.TransferAsync(from, other, 200, key);
        var otherAmount = await Api.TransferAsync(from, to, 201, key);
        var otherSender = await Api.TransferAsync(to, from, 200, key);
        var asUse = await Api.UseAsync(from, 200, key);

        foreach (var response in new[] { otherReceiver, otherAmount, otherSender, asUse })
        {
            Assert.Equal((HttpStatusCode.Conflict, "IDEMPOTENCY_CONFLICT"), (response.Status, response.Code));
        }

        Assert.Equal((300L, 300L, 2L, true), await Api.AuditAsync(from));
        Assert.Equal(200, await Api.BalanceAsync(to));
        Assert.Equal(0, await Api.BalanceAsync(other));
    }

    [Fact]
    public async Task Idempotency_TransferOverdraftIsReplayedToo()
    {
        var from = await Api.CreateUserAsync();
        var to = await Api.CreateUserAsync();
        var key = Guid.NewGuid().ToString();

        var first = await Api.TransferAsync(from, to, 50, key);
        await Api.ChargeAsync(from, 100);
        var repeat = await Api.TransferAsync(from, to, 50, key);

        Assert.Equal((HttpStatusCode.Conflict, "USERPOINT_INSUFFICIENT_BALANCE"), (first.Status, first.Code));
        Assert.Equal((HttpStatusCode.Conflict, first.Body), (repeat.Status, repeat.Body));
        Assert.Equal(100, await Api.BalanceAsync(from));
        Assert.Equal(0, await Api.BalanceAsync(to));
    }

    [Fact]
    public async Task UnknownRouteAndWrongMethod_AreEnvelopes404And405()
    {
        var route = await Api.SendAsync(HttpMethod.Get, "/api/v1/nothing-here");
        var method = await Api.SendAsync(HttpMethod.Delete, "/api/v1/users");

        Assert.Equal((HttpStatusCode.NotFound, "G_NOT_FOUND"), (route.Status, route.Code));
        Assert.Equal((HttpStatusCode.MethodNotAllowed, "G_METHOD_NOT_ALLOWED"), (method.Status, method.Code));
    }

    [Fact]
    public async Task Operations_HealthOpenApiPageAndMetrics_AreServed()
    {
        var http = ApiFixture.Http;
        var id = await Api.CreateUserAsync();
        await Api.ChargeAsync(id, 10);

        using var live = await http.GetAsync(new Uri(Api.BaseUrl, "/health/live"));
        using var ready = await http.GetAsync(new Uri(Api.BaseUrl, "/health/ready"));
        var openApi = await http.GetStringAsync(new Uri(Api.BaseUrl, "/openapi/v1.json"));
        var page = await http.GetStringAsync(new Uri(Api.BaseUrl, "/scalar/v1"));
        var metrics = await http.GetStringAsync(new Uri(Api.BaseUrl, "/metrics"));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("/api/v1/user-points/{userId}/charge", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/v1/user-points/{fromUserId}/transfer", openApi, StringComparison.Ordinal);
        Assert.Contains("<html", page, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("duallock_", metrics, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration", metrics, StringComparison.Ordinal);
    }
}
