using System.Net;
using Microsoft.AspNetCore.Diagnostics;

namespace DualLock.AspNetCore.Tests.ProblemDetails;

/// <summary>What a client receives through AddDualLockProblemDetails + UseExceptionHandler.</summary>
public sealed class LockProblemDetailsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AddDualLockProblemDetails_LockTimeout_Answers503ProblemWithCodeAndRetryAfter()
    {
        await using var app = await StartAsync();

        var response = await app.Client.GetAsync("/timeout", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await TestApp.JsonAsync(response);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal("LOCK_TIMEOUT", problem.GetProperty("code").GetString());
        Assert.Equal("not-applied", problem.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task AddDualLockProblemDetails_ClientAcceptsNoJson_StillGets503AndRetryAfter()
    {
        await using var app = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/timeout");
        request.Headers.Accept.ParseAdd("text/html");

        var response = await app.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task AddDualLockProblemDetails_CommitOutcomeUnknown_AnswersThatTheWriteMayHaveHappened()
    {
        await using var app = await StartAsync();

        var response = await app.Client.GetAsync("/outcome-unknown", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await TestApp.JsonAsync(response);
        Assert.Equal("G_OUTCOME_UNKNOWN", problem.GetProperty("code").GetString());
        Assert.Equal("unknown", problem.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task AddDualLockProblemDetails_OtherException_IsNotAnsweredAsALockFailure()
    {
        await using var app = await StartAsync();

        var response = await app.Client.GetAsync("/bug", Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task AddDualLockProblemDetails_LockTimeoutThroughTheFilter_Answers503()
    {
        // A real timeout: the key is held by the test for longer than the endpoint's strategy waits.
        await using var app = await StartAsync();
        var strategy = app.Services.GetRequiredKeyedService<ILockStrategy>("local");
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = strategy.ExecuteAsync(new LockKey("thing", "held"), async (_, _) => { holding.SetResult(); await release.Task; }, cancellationToken: Ct);
        await holding.Task;

        var response = await app.Client.GetAsync("/locked/held", Ct);
        release.SetResult();
        await holder;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("LOCK_TIMEOUT", (await TestApp.JsonAsync(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task TryHandleAsync_ClientWentAway_HandledWithoutAnAnswer()
    {
        var handler = new LockExceptionHandler(new ThrowingProblemDetailsService());
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        var http = new DefaultHttpContext { RequestAborted = aborted.Token };

        var handled = await handler.TryHandleAsync(http, new OperationCanceledException(aborted.Token), Ct);

        Assert.True(handled);
        Assert.Equal(200, http.Response.StatusCode); // untouched: nothing is written for nobody
    }

    private static Task<TestApp> StartAsync() => TestApp.StartAsync(
        b =>
        {
            b.Services.AddDualLockProblemDetails();
            b.Services.AddDualLock().AddInProcessStrategy("local");
            b.Services.Configure<LockPipelineOptions>("local", o => o.WaitTimeout = TimeSpan.FromMilliseconds(50));
        },
        a =>
        {
            a.UseExceptionHandler();
            a.MapGet("/timeout", string () => throw new LockTimeoutException("thing", "in-process", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)));
            a.MapGet("/outcome-unknown", string () => throw new LockCommitOutcomeUnknownException("thing", "mysql-transaction", TimeSpan.FromSeconds(1), new IOException("reset")));
            a.MapGet("/bug", string () => throw new InvalidOperationException("a bug"));
            a.MapGet("/locked/{id}", (string id) => id).WithLock("local", "thing", "id");
        });

    private sealed class ThrowingProblemDetailsService : IProblemDetailsService
    {
        public ValueTask WriteAsync(ProblemDetailsContext context) => throw new InvalidOperationException("nothing may be written");
    }
}
