using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DualLock.AspNetCore.Tests.Endpoints;

/// <summary>
/// The endpoint filter on a dual strategy against the real MariaDB and Redis: the handler runs inside the lock's
/// transaction, an error result rolls it back and is still the answer.
/// </summary>
public sealed class WithLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WithLock_HandlerReturnsOk_CommitsInsideTheDualLockWithItsFencingToken()
    {
        await using var table = await PointTable.CreateAsync(1);
        await using var app = await TestApp.StartAsync(b => LockedPoints.AddDualCharge(b.Services, table), a => LockedPoints.Map(a, table));

        var response = await app.Client.PostAsync("/points/1/ok", null, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await TestApp.JsonAsync(response);
        Assert.Equal(1, body.GetProperty("amount").GetInt64());
        Assert.True(body.GetProperty("token").GetInt64() > 0, "the Redis lock's fencing token reaches the handler");
        Assert.Equal(1, await table.AmountAsync(1));
    }

    [Theory]
    [InlineData("bad-request", HttpStatusCode.BadRequest)]
    [InlineData("conflict-problem", HttpStatusCode.Conflict)]
    [InlineData("status-422", HttpStatusCode.UnprocessableEntity)]
    public async Task WithLock_HandlerAnswersAnError_RollsItsUpdateBackAndTheClientGetsThatAnswer(string route, HttpStatusCode expected)
    {
        await using var table = await PointTable.CreateAsync(2);
        await using var app = await TestApp.StartAsync(b => LockedPoints.AddDualCharge(b.Services, table), a => LockedPoints.Map(a, table));

        var response = await app.Client.PostAsync($"/points/2/{route}", null, Ct);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(0, await table.AmountAsync(2));
        if (route == "bad-request")
        {
            Assert.Equal("the handler refused after writing", (await TestApp.JsonAsync(response)).GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task WithLock_HandlerThrows_RollsBackAndTheExceptionReachesErrorHandling()
    {
        await using var table = await PointTable.CreateAsync(3);
        await using var app = await TestApp.StartAsync(b => LockedPoints.AddDualCharge(b.Services, table), a => LockedPoints.Map(a, table));

        var response = await app.Client.PostAsync("/points/3/throws", null, Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(0, await table.AmountAsync(3));
    }

    [Fact]
    public async Task WithLock_ConcurrentReadModifyWriteRequests_NoneIsLost()
    {
        const int requests = 16;
        await using var table = await PointTable.CreateAsync(4);
        await using var app = await TestApp.StartAsync(b => LockedPoints.AddDualCharge(b.Services, table), a => LockedPoints.Map(a, table));

        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => app.Client.PostAsync("/points/4/ok", null, Ct)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(requests, await table.AmountAsync(4));
    }

    [Theory]
    [InlineData("/keys/a%3Ab", "cannot identify")] // ':' separates a key's parts
    [InlineData("/keys/with%20space", "cannot identify")]
    [InlineData("/optional", "is missing")]
    public async Task WithLock_RouteValueCannotBeAKeyId_Answers400ProblemWithoutRunningTheHandler(string path, string expected)
    {
        var runs = 0;
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddDualLock().AddInProcessStrategy("local"),
            a =>
            {
                a.MapGet("/keys/{name}", (string name) => ++runs).WithLock("local", "thing", "name");
                a.MapGet("/optional/{name?}", (string? name) => ++runs).WithLock("local", "thing", "name");
            });

        var response = await app.Client.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await TestApp.JsonAsync(response);
        Assert.Equal(LockErrorCodes.KeyInvalid, problem.GetProperty("code").GetString());
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task WithLock_IdLongerThanAKeyAllows_Answers400()
    {
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddDualLock().AddInProcessStrategy("local"),
            a => a.MapGet("/keys/{name}", (string name) => name).WithLock("local", "thing", "name"));

        var response = await app.Client.GetAsync("/keys/" + new string('x', LockKey.MaxIdLength + 1), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public void WithLock_RouteWithoutTheParameter_FailsWhenTheEndpointsAreBuilt()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddDualLock().AddInProcessStrategy("local");
        var app = builder.Build();
        app.MapGet("/no-parameter", () => "x").WithLock("local", "thing", "userId");

        var error = Assert.Throws<InvalidOperationException>(() => ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).ToList());
        Assert.Contains("'userId'", error.Message, StringComparison.Ordinal);
        Assert.Contains("/no-parameter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithLock_ResourceThatIsNotAKeyPart_FailsAtRegistration()
    {
        var app = WebApplication.CreateBuilder().Build();

        Assert.Throws<ArgumentException>(() => app.MapGet("/keys/{name}", (string name) => name).WithLock("local", "bad:resource", "name"));
    }

    [Fact]
    public async Task WithLock_KeyFunction_LocksTheKeyItMakesAndWhatItThrowsReachesErrorHandling()
    {
        LockKey? seen = null;
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddDualLock().AddInProcessStrategy("local"),
            a => a.MapGet("/orders/{id}", (HttpContext http) => { seen = http.GetLockContext().Keys.First; return "ok"; })
                .WithLock("local", http => new LockKey("order", Guid.Parse((string)http.GetRouteValue("id")!))));

        var ok = await app.Client.GetAsync("/orders/6f1c2a9e-0000-4000-8000-000000000001", Ct);
        var bad = await app.Client.GetAsync("/orders/not-a-guid", Ct);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(new LockKey("order", Guid.Parse("6f1c2a9e-0000-4000-8000-000000000001")), seen);
        Assert.Equal(HttpStatusCode.InternalServerError, bad.StatusCode); // the FormatException is the application's to map
    }

    [Fact]
    public void GetLockContext_OutsideALockedHandler_ThrowsNamingWithLock()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new DefaultHttpContext().GetLockContext());

        Assert.Contains("WithLock", error.Message, StringComparison.Ordinal);
    }
}
