using System.Net;
using Microsoft.AspNetCore.Mvc;

namespace DualLock.AspNetCore.Tests.Mvc;

/// <summary>[WithLock] on controller actions, dual strategy on the real servers: the same contract as the endpoint filter.</summary>
public sealed class WithLockAttributeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("ok", HttpStatusCode.OK, 1)]
    [InlineData("bad-request", HttpStatusCode.BadRequest, 0)]
    [InlineData("problem", HttpStatusCode.Conflict, 0)]
    [InlineData("throws", HttpStatusCode.InternalServerError, 0)]
    public async Task WithLockAttribute_ActionResult_CommitsOnlyASuccess(string action, HttpStatusCode expected, long amountAfter)
    {
        await using var table = await PointTable.CreateAsync(11);
        await using var app = await StartAsync(table);

        var response = await app.Client.PostAsync($"/mvc/points/11/{action}", null, Ct);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(amountAfter, await table.AmountAsync(11));
        if (action == "bad-request")
        {
            Assert.Equal("refused after writing", (await TestApp.JsonAsync(response)).GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task WithLockAttribute_RouteValueCannotBeAKeyId_Answers400WithoutRunningTheAction()
    {
        await using var table = await PointTable.CreateAsync();
        await using var app = await StartAsync(table);

        var response = await app.Client.PostAsync("/mvc/points/keys/a%3Ab", null, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(LockErrorCodes.KeyInvalid, (await TestApp.JsonAsync(response)).GetProperty("code").GetString());
        Assert.Equal(0, PointsController.KeyActionRuns);
    }

    private static Task<TestApp> StartAsync(PointTable table) => TestApp.StartAsync(
        b =>
        {
            LockedPoints.AddDualCharge(b.Services, table);
            b.Services.AddSingleton(table);
            b.Services.AddControllers().AddApplicationPart(typeof(PointsController).Assembly);
        },
        a => a.MapControllers());
}

[ApiController]
[Route("mvc/points")]
public sealed class PointsController(PointTable table) : ControllerBase
{
    private static int _keyActionRuns;

    public static int KeyActionRuns => Volatile.Read(ref _keyActionRuns);

    [HttpPost("{id}/ok")]
    [WithLock("charge", LockedPoints.Resource, "id")]
    public async Task<IActionResult> Ok(long id) => Ok(new { amount = await LockedPoints.AddAsync(HttpContext, table.Name, id, 1) });

    [HttpPost("{id}/bad-request")]
    [WithLock("charge", LockedPoints.Resource, "id")]
    public async Task<IActionResult> Refuse(long id)
    {
        await LockedPoints.AddAsync(HttpContext, table.Name, id, 100);
        return BadRequest(new { reason = "refused after writing" });
    }

    [HttpPost("{id}/problem")]
    [WithLock("charge", LockedPoints.Resource, "id")]
    public async Task<IActionResult> Conflict(long id)
    {
        await LockedPoints.AddAsync(HttpContext, table.Name, id, 100);
        return Problem(statusCode: 409, title: "conflict after writing");
    }

    [HttpPost("{id}/throws")]
    [WithLock("charge", LockedPoints.Resource, "id")]
    public async Task<IActionResult> Throw(long id)
    {
        await LockedPoints.AddAsync(HttpContext, table.Name, id, 100);
        throw new InvalidOperationException("the action failed after writing");
    }

    [HttpPost("keys/{name}")]
    [WithLock("charge", "thing", "name")]
    public IActionResult Key(string name)
    {
        Interlocked.Increment(ref _keyActionRuns);
        return Ok(name);
    }
}
