using Dapper;
using DualLock.IntegrationTests;
using DualLock.MySql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DualLock.AspNetCore.Tests;

/// <summary>
/// The endpoints the filter tests call: each reads the row, writes amount + delta in the lock's transaction, then
/// answers what the route asks for (success, an error result, a thrown exception).
/// </summary>
public static class LockedPoints
{
    public const string Resource = "aspnet-point";

    /// <summary>A dual strategy <c>charge</c> on the real servers: Redis outside, transaction and row lock on <paramref name="table"/> inside.</summary>
    public static void AddDualCharge(IServiceCollection services, PointTable table)
    {
        services.AddDualLock()
            .AddRedis(Servers.Redis)
            .AddDualStrategy("charge", (b, _) => b.AddMySqlTransaction(Servers.MySql).AddMySqlRowLock(table.Name, "id"));

        // 16 callers queue on one key on a loaded 2-core machine: the 2 s default wait would time some out.
        services.Configure<LockPipelineOptions>("charge", o => o.WaitTimeout = TimeSpan.FromSeconds(30));
    }

    /// <summary>Adds <paramref name="delta"/> to the row inside the lock's transaction by read-modify-write (only the lock keeps it exact).</summary>
    public static async Task<long> AddAsync(HttpContext http, string table, long id, long delta)
    {
        var transaction = http.GetLockContext().GetRequiredFeature<MySqlTransactionFeature>();
        var current = await transaction.Connection.ExecuteScalarAsync<long>(
            $"SELECT amount FROM `{table}` WHERE id = @id", new { id }, transaction.Transaction);
        await Task.Yield(); // widen the window between the read and the write
        await transaction.Connection.ExecuteAsync(
            $"UPDATE `{table}` SET amount = @amount WHERE id = @id", new { amount = current + delta, id }, transaction.Transaction);
        return current + delta;
    }

    public static void Map(WebApplication app, PointTable table)
    {
        app.MapPost("/points/{id}/ok", async (long id, HttpContext http) =>
            {
                var amount = await AddAsync(http, table.Name, id, 1);
                return Results.Ok(new { amount, token = http.GetLockContext().FencingToken });
            })
            .WithLock("charge", Resource, "id");

        app.MapPost("/points/{id}/bad-request", async (long id, HttpContext http) =>
            {
                await AddAsync(http, table.Name, id, 100);
                return Results.BadRequest(new { reason = "the handler refused after writing" });
            })
            .WithLock("charge", Resource, "id");

        app.MapPost("/points/{id}/conflict-problem", async (long id, HttpContext http) =>
            {
                await AddAsync(http, table.Name, id, 100);
                return Results.Problem(statusCode: 409, title: "conflict after writing");
            })
            .WithLock("charge", Resource, "id");

        app.MapPost("/points/{id}/status-422", async (long id, HttpContext http) =>
            {
                await AddAsync(http, table.Name, id, 100);
                http.Response.StatusCode = StatusCodes.Status422UnprocessableEntity; // a handler that answers by hand
            })
            .WithLock("charge", Resource, "id");

        app.MapPost("/points/{id}/throws", async (long id, HttpContext http) =>
            {
                await AddAsync(http, table.Name, id, 100);
                throw new InvalidOperationException("the handler failed after writing");
            })
            .WithLock("charge", Resource, "id");
    }
}
