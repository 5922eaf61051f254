using System.Net;
using System.Text;
using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>Shared by the hostile-input table: one user with a known balance and ledger that no case may change.</summary>
public sealed class HostileInputFixture : ApiFixture
{
    public const long Balance = 1_000;

    public string UserId { get; private set; } = "";

    public string UseTransactionId { get; private set; } = "";

    /// <summary>Gets a second user, the receiver of the transfer cases (balance 0).</summary>
    public string ReceiverId { get; private set; } = "";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Locking__Strategy"] = EndpointFixture.Strategy };

    public async Task EnsureUserAsync()
    {
        if (UserId.Length > 0)
        {
            return;
        }

        ReceiverId = await Client.CreateUserAsync();
        UserId = await Client.CreateUserAsync();
        await Client.ChargeAsync(UserId, Balance + 1);
        var use = await Client.UseAsync(UserId, 1);
        UseTransactionId = use.TransactionId;
        var refund = await Client.RefundAsync(UserId, UseTransactionId);
        Assert.Equal(HttpStatusCode.OK, refund.Status);
        await Client.UseAsync(UserId, 1);
    }
}

/// <summary>
/// Every malformed or hostile request gets its documented 4xx envelope and leaves the balance, the
/// ledger and the idempotency table exactly as they were (checked in the database, not through the API).
/// </summary>
public sealed class HostileInputTests(HostileInputFixture fixture) : IClassFixture<HostileInputFixture>
{
    private const string U = "{user}";
    private const string Charge = "/api/v1/user-points/{user}/charge";
    private const string Use = "/api/v1/user-points/{user}/use";
    private const string Refund = "/api/v1/user-points/{user}/refund";
    private const string Json = "application/json";
    private const string Transfer = "/api/v1/user-points/{user}/transfer";

    public static TheoryData<string, string, string, string?, string, int, string> Cases => new()
    {
        // name, method, path, body (null: none; "@big:N": N bytes; "@bytes:hex"), content type, status, code
        { "empty body", "POST", Charge, "", Json, 400, "G_INVALID_ARG" },
        { "no body at all", "POST", Charge, null, "", 400, "G_INVALID_ARG" },
        { "truncated JSON", "POST", Charge, "{", Json, 400, "G_INVALID_ARG" },
        { "not JSON", "POST", Charge, "amount=100", Json, 400, "G_INVALID_ARG" },
        { "JSON null", "POST", Charge, "null", Json, 400, "G_INVALID_ARG" },
        { "JSON array", "POST", Charge, "[100]", Json, 400, "G_INVALID_ARG" },
        { "bare number", "POST", Charge, "100", Json, 400, "G_INVALID_ARG" },
        { "bare string", "POST", Charge, "\"amount\"", Json, 400, "G_INVALID_ARG" },
        { "empty object", "POST", Charge, "{}", Json, 400, "G_INVALID_ARG" },
        { "amount null", "POST", Charge, "{\"amount\":null}", Json, 400, "G_INVALID_ARG" },
        { "amount string", "POST", Charge, "{\"amount\":\"100\"}", Json, 400, "G_INVALID_ARG" },
        { "amount boolean", "POST", Charge, "{\"amount\":true}", Json, 400, "G_INVALID_ARG" },
        { "amount fraction", "POST", Charge, "{\"amount\":1.5}", Json, 400, "G_INVALID_ARG" },
        { "amount 100.0", "POST", Charge, "{\"amount\":100.0}", Json, 400, "G_INVALID_ARG" },
        { "amount exponent", "POST", Charge, "{\"amount\":1e3}", Json, 400, "G_INVALID_ARG" },
        { "amount zero", "POST", Charge, "{\"amount\":0}", Json, 400, "USERPOINT_INVALID_CHARGE" },
        { "amount negative", "POST", Charge, "{\"amount\":-1}", Json, 400, "USERPOINT_INVALID_CHARGE" },
        { "amount above max charge", "POST", Charge, "{\"amount\":1000001}", Json, 400, "USERPOINT_INVALID_CHARGE" },
        { "amount long.MaxValue", "POST", Charge, "{\"amount\":9223372036854775807}", Json, 400, "USERPOINT_INVALID_CHARGE" },
        { "amount long.MinValue", "POST", Charge, "{\"amount\":-9223372036854775808}", Json, 400, "USERPOINT_INVALID_CHARGE" },
        { "amount above 64 bits", "POST", Charge, "{\"amount\":9223372036854775808}", Json, 400, "G_INVALID_ARG" },
        { "amount below 64 bits", "POST", Charge, "{\"amount\":-9223372036854775809}", Json, 400, "G_INVALID_ARG" },
        { "amount 30 digits", "POST", Charge, "{\"amount\":999999999999999999999999999999}", Json, 400, "G_INVALID_ARG" },
        { "amount array", "POST", Charge, "{\"amount\":[1]}", Json, 400, "G_INVALID_ARG" },
        { "amount object", "POST", Charge, "{\"amount\":{\"value\":1}}", Json, 400, "G_INVALID_ARG" },
        { "amount NaN", "POST", Charge, "{\"amount\":NaN}", Json, 400, "G_INVALID_ARG" },
        { "amount Infinity", "POST", Charge, "{\"amount\":Infinity}", Json, 400, "G_INVALID_ARG" },
        { "amount hex", "POST", Charge, "{\"amount\":0x10}", Json, 400, "G_INVALID_ARG" },
        { "amount leading zero", "POST", Charge, "{\"amount\":010}", Json, 400, "G_INVALID_ARG" },
        { "unknown extra field", "POST", Charge, "{\"amount\":1,\"admin\":true}", Json, 400, "G_INVALID_ARG" },
        { "wrong field case", "POST", Charge, "{\"Amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "duplicate field", "POST", Charge, "{\"amount\":1,\"amount\":2}", Json, 400, "G_INVALID_ARG" },
        { "trailing comma", "POST", Charge, "{\"amount\":1,}", Json, 400, "G_INVALID_ARG" },
        { "comment", "POST", Charge, "{\"amount\":1 /* hi */}", Json, 400, "G_INVALID_ARG" },
        { "two documents", "POST", Charge, "{\"amount\":1}{\"amount\":2}", Json, 400, "G_INVALID_ARG" },
        { "deep nesting", "POST", Charge, new string('[', 5000) + new string(']', 5000), Json, 400, "G_INVALID_ARG" },
        { "invalid UTF-8", "POST", Charge, "@bytes:7B22616D6F756E74FF223A317D", Json, 400, "G_INVALID_ARG" },
        { "body 20 KiB", "POST", Charge, "@big:20480", Json, 413, "G_PAYLOAD_TOO_LARGE" },
        { "body 3 MiB", "POST", Charge, "@big:3145728", Json, 413, "G_PAYLOAD_TOO_LARGE" },
        { "text/plain", "POST", Charge, "{\"amount\":1}", "text/plain", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "form content type", "POST", Charge, "amount=1", "application/x-www-form-urlencoded", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "xml", "POST", Charge, "<amount>1</amount>", "application/xml", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "no content type", "POST", Charge, "{\"amount\":1}", "", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "UTF-16 charset", "POST", Charge, "{\"amount\":1}", "application/json; charset=utf-16", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "user id not a UUID", "POST", "/api/v1/user-points/abc/charge", "{\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "user id a number", "POST", "/api/v1/user-points/1/charge", "{\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "user id injection", "POST", "/api/v1/user-points/%27%20OR%201%3D1%20--/charge", "{\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "user id braces", "POST", "/api/v1/user-points/%7B" + Guid.Empty + "%7D/charge", "{\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "unknown user", "POST", "/api/v1/user-points/" + Guid.NewGuid() + "/charge", "{\"amount\":1}", Json, 404, "USERPOINT_NOT_FOUND" },
        { "use zero", "POST", Use, "{\"amount\":0}", Json, 400, "G_INVALID_ARG" },
        { "use negative", "POST", Use, "{\"amount\":-5}", Json, 400, "G_INVALID_ARG" },
        { "use string", "POST", Use, "{\"amount\":\"5\"}", Json, 400, "G_INVALID_ARG" },
        { "use fraction", "POST", Use, "{\"amount\":0.5}", Json, 400, "G_INVALID_ARG" },
        { "use above max balance", "POST", Use, "{\"amount\":9223372036854775807}", Json, 400, "G_INVALID_ARG" },
        { "use more than balance", "POST", Use, "{\"amount\":1001}", Json, 409, "USERPOINT_INSUFFICIENT_BALANCE" },
        { "refund number id", "POST", Refund, "{\"transactionId\":123}", Json, 400, "G_INVALID_ARG" },
        { "refund non-UUID id", "POST", Refund, "{\"transactionId\":\"abc\"}", Json, 400, "G_INVALID_ARG" },
        { "refund empty object", "POST", Refund, "{}", Json, 400, "G_INVALID_ARG" },
        { "refund amount instead", "POST", Refund, "{\"amount\":5}", Json, 400, "G_INVALID_ARG" },
        { "refund unknown transaction", "POST", Refund, "{\"transactionId\":\"" + Guid.NewGuid() + "\"}", Json, 409, "USERPOINT_TRANSACTION_NOT_FOUND" },
        { "refund already refunded", "POST", Refund, "{\"transactionId\":\"@use\"}", Json, 409, "USERPOINT_ALREADY_REFUNDED" },
        { "transfer empty body", "POST", Transfer, "", Json, 400, "G_INVALID_ARG" },
        { "transfer no body", "POST", Transfer, null, "", 400, "G_INVALID_ARG" },
        { "transfer empty object", "POST", Transfer, "{}", Json, 400, "G_INVALID_ARG" },
        { "transfer JSON array", "POST", Transfer, "[\"@to\",1]", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId missing", "POST", Transfer, "{\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer amount missing", "POST", Transfer, "{\"toUserId\":\"@to\"}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId number", "POST", Transfer, "{\"toUserId\":2,\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId negative", "POST", Transfer, "{\"toUserId\":-1,\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId null", "POST", Transfer, "{\"toUserId\":null,\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId not a UUID", "POST", Transfer, "{\"toUserId\":\"abc\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId numeric string", "POST", Transfer, "{\"toUserId\":\"-1\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId object", "POST", Transfer, "{\"toUserId\":{\"id\":\"@to\"},\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer toUserId injection", "POST", Transfer, "{\"toUserId\":\"' OR 1=1 --\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer to self", "POST", Transfer, "{\"toUserId\":\"{user}\",\"amount\":1}", Json, 400, "USERPOINT_SELF_TRANSFER" },
        { "transfer amount zero", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":0}", Json, 400, "USERPOINT_INVALID_TRANSFER" },
        { "transfer amount negative", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":-5}", Json, 400, "USERPOINT_INVALID_TRANSFER" },
        { "transfer amount above max charge", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":1000001}", Json, 400, "USERPOINT_INVALID_TRANSFER" },
        { "transfer amount long.MinValue", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":-9223372036854775808}", Json, 400, "USERPOINT_INVALID_TRANSFER" },
        { "transfer amount string", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":\"5\"}", Json, 400, "G_INVALID_ARG" },
        { "transfer amount fraction", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":0.5}", Json, 400, "G_INVALID_ARG" },
        { "transfer amount above 64 bits", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":9223372036854775808}", Json, 400, "G_INVALID_ARG" },
        { "transfer unknown extra field", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":1,\"fromUserId\":\"@to\"}", Json, 400, "G_INVALID_ARG" },
        { "transfer duplicate toUserId", "POST", Transfer, "{\"toUserId\":\"@to\",\"toUserId\":\"@to\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer wrong field case", "POST", Transfer, "{\"ToUserId\":\"@to\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer text/plain", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":1}", "text/plain", 415, "G_UNSUPPORTED_MEDIA_TYPE" },
        { "transfer sender not a UUID", "POST", "/api/v1/user-points/42/transfer", "{\"toUserId\":\"@to\",\"amount\":1}", Json, 400, "G_INVALID_ARG" },
        { "transfer unknown sender", "POST", "/api/v1/user-points/" + Guid.NewGuid() + "/transfer", "{\"toUserId\":\"@to\",\"amount\":1}", Json, 404, "USERPOINT_NOT_FOUND" },
        { "transfer unknown receiver", "POST", Transfer, "{\"toUserId\":\"" + Guid.NewGuid() + "\",\"amount\":1}", Json, 404, "USERPOINT_RECEIVER_NOT_FOUND" },
        { "transfer more than balance", "POST", Transfer, "{\"toUserId\":\"@to\",\"amount\":1001}", Json, 409, "USERPOINT_INSUFFICIENT_BALANCE" },
        { "GET on transfer", "GET", Transfer, null, "", 405, "G_METHOD_NOT_ALLOWED" },
        { "histories page 0", "GET", "/api/v1/user-points/{user}/histories?page=0", null, "", 400, "G_INVALID_ARG" },
        { "histories size 1000", "GET", "/api/v1/user-points/{user}/histories?size=1000", null, "", 400, "G_INVALID_ARG" },
        { "histories page text", "GET", "/api/v1/user-points/{user}/histories?page=abc", null, "", 400, "G_INVALID_ARG" },
        { "histories page negative", "GET", "/api/v1/user-points/{user}/histories?page=-1", null, "", 400, "G_INVALID_ARG" },
        { "audit non-UUID", "GET", "/api/v1/user-points/zzz/audit", null, "", 400, "G_INVALID_ARG" },
        { "GET user non-UUID", "GET", "/api/v1/users/not-a-uuid", null, "", 400, "G_INVALID_ARG" },
        { "PUT on charge", "PUT", Charge, "{\"amount\":1}", Json, 405, "G_METHOD_NOT_ALLOWED" },
        { "GET on charge", "GET", Charge, null, "", 405, "G_METHOD_NOT_ALLOWED" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileRequest_GetsDocumented4xx_AndChangesNothing(string name, string method, string path, string? body, string contentType, int status, string code)
    {
        await fixture.EnsureUserAsync();
        var before = await SnapshotAsync();
        path = path.Replace(U, fixture.UserId, StringComparison.Ordinal);
        byte[]? raw = null;
        if (body is not null && body.StartsWith("@big:", StringComparison.Ordinal))
        {
            var size = int.Parse(body[5..], System.Globalization.CultureInfo.InvariantCulture);
            raw = Encoding.UTF8.GetBytes("{\"amount\":1" + new string(' ', size) + "}");
        }
        else if (body is not null && body.StartsWith("@bytes:", StringComparison.Ordinal))
        {
            raw = Convert.FromHexString(body[7..]);
        }
        else if (body is not null)
        {
            body = body.Replace("@use", fixture.UseTransactionId, StringComparison.Ordinal)
                .Replace("@to", fixture.ReceiverId, StringComparison.Ordinal)
                .Replace(U, fixture.UserId, StringComparison.Ordinal);
        }

        var response = await fixture.Client.SendAsync(new HttpMethod(method), path, body, contentType, rawBody: raw);

        Assert.True((HttpStatusCode)status == response.Status, $"{name}: expected {status}, got {(int)response.Status} {response.Body}");
        Assert.Equal(code, response.Code);
        Assert.False(response.Success);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task IdempotencyKey_Malformed_Is400AndStoresNothing()
    {
        await fixture.EnsureUserAsync();
        var before = await SnapshotAsync();
        var path = Charge.Replace(U, fixture.UserId, StringComparison.Ordinal);

        var tooLong = await fixture.Client.SendAsync(HttpMethod.Post, path, "{\"amount\":1}", idempotencyKey: new string('k', 129));
        var blank = await fixture.Client.SendAsync(HttpMethod.Post, path, "{\"amount\":1}", idempotencyKey: "has space");

        Assert.Equal((HttpStatusCode.BadRequest, "G_INVALID_ARG"), (tooLong.Status, tooLong.Code));
        Assert.Equal((HttpStatusCode.BadRequest, "G_INVALID_ARG"), (blank.Status, blank.Code));
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task IdempotencyKey_MalformedOnTransfer_Is400AndStoresNothing()
    {
        await fixture.EnsureUserAsync();
        var before = await SnapshotAsync();
        var path = Transfer.Replace(U, fixture.UserId, StringComparison.Ordinal);

        var response = await fixture.Client.SendAsync(HttpMethod.Post, path, $"{{\"toUserId\":\"{fixture.ReceiverId}\",\"amount\":1}}", idempotencyKey: "has space");

        Assert.Equal((HttpStatusCode.BadRequest, "G_INVALID_ARG"), (response.Status, response.Code));
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public void Cases_AreAtLeastForty() => Assert.True(Cases.Count >= 40, $"{Cases.Count} cases");

    private async Task<(long Balance, long Version, long ReceiverBalance, long ReceiverVersion, long Entries, long LedgerSum, long Keys)> SnapshotAsync()
    {
        var db = fixture.Database;
        var user = ("@u", (object)fixture.UserId);
        var receiver = ("@u", (object)fixture.ReceiverId);
        return (
            await db.ScalarAsync("SELECT amount FROM user_points WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT version FROM user_points WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT amount FROM user_points WHERE user_id = @u", receiver),
            await db.ScalarAsync("SELECT version FROM user_points WHERE user_id = @u", receiver),
            await db.ScalarAsync("SELECT COUNT(*) FROM point_ledger", user),
            await db.ScalarAsync("SELECT COALESCE(SUM(amount), 0) FROM point_ledger WHERE user_id = @u", user),
            await db.ScalarAsync("SELECT COUNT(*) FROM idempotency_keys"));
    }
}
