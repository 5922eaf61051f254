using System.Diagnostics;
using System.Globalization;

namespace UserPointApi.Api;

/// <summary>
/// Adds <c>Server-Timing: app;dur=&lt;ms&gt;</c> (W3C Server Timing) to every response: the time from the
/// request reaching the app to the response starting. Opt-in (<c>Diagnostics:ServerTiming=true</c>) for the
/// benchmark runners, which tell the server's own time from the time a request queued on a saturated
/// machine (a closed-loop retry storm against fail-fast 503s measures the CPU, not the lock).
/// </summary>
public sealed class ServerTimingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        context.Response.OnStarting(
            static state =>
            {
                var (response, started) = ((HttpResponse, long))state;
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture, $"app;dur={ms:0.###}");
                return Task.CompletedTask;
            },
            (context.Response, started));
        return next(context);
    }
}
