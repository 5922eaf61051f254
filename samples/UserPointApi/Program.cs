using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;
using StackExchange.Redis;
using UserPointApi;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Health;
using UserPointApi.Idempotency;
using UserPointApi.Locking;
using UserPointApi.Points;

DefaultTypeMap.MatchNamesWithUnderscores = true;

var builder = WebApplication.CreateBuilder(args);

// Bodies are capped per endpoint at 16 KiB (RequestBody); this is only the server's outer bound.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);

var locking = builder.Configuration.GetSection(LockingOptions.Section).Get<LockingOptions>() ?? new LockingOptions();
var limits = builder.Configuration.GetSection(PointOptions.Section).Get<PointOptions>() ?? new PointOptions();
var problems = locking.Problems().Concat(limits.Problems()).Concat(Database.Problems(builder.Configuration)).ToList();
if (problems.Count == 0 && Database.KindOf(builder.Configuration) == DatabaseKind.Postgres && limits.UsesEf)
{
    // The EF Core path is Pomelo's (MySQL); the raw path runs every strategy on both databases.
    problems.Add("Points:DataAccess=ef runs on MySQL only; with Database=postgres use Points:DataAccess=raw.");
}

if (problems.Count > 0)
{
    throw new InvalidOperationException("Invalid configuration: " + string.Join(" ", problems));
}

builder.Services.Configure<LockingOptions>(builder.Configuration.GetSection(LockingOptions.Section));
builder.Services.Configure<PointOptions>(builder.Configuration.GetSection(PointOptions.Section));
builder.Services.Configure<IdempotencyOptions>(builder.Configuration.GetSection(IdempotencyOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Database>();
builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
{
    var redis = builder.Configuration.GetConnectionString("Redis");
    if (string.IsNullOrWhiteSpace(redis))
    {
        throw new InvalidOperationException("ConnectionStrings:Redis is not set (environment: ConnectionStrings__Redis; scripts/services.sh env prints it).");
    }

    var options = ConfigurationOptions.Parse(redis);
    options.AbortOnConnectFail = false; // start and report not-ready rather than crash when Redis is down
    return ConnectionMultiplexer.Connect(options);
});
builder.Services.AddSingleton<RedlockNodes>();
builder.Services.AddSingleton<PointQueries>();
builder.Services.AddSingleton<IdempotencyStore>();
builder.Services.AddSingleton<PointMutations>();
builder.Services.AddSingleton<EfPointMutations>();
if (limits.UsesEf)
{
    // One pooled context per locked execution, on the connection string the raw path uses (UTC timestamps, text ids).
    builder.Services.AddPooledDbContextFactory<PointsDb>((services, o) => o.UseMySql(
        services.GetRequiredService<Database>().ConnectionString, ServerVersion.Parse(limits.EfServerVersion)));
}

builder.Services.AddSingleton<PointService>();
builder.Services.AddSingleton<CombinedPointWrites>();
builder.Services.AddSingleton<TransferMutations>();
builder.Services.AddSingleton<PointTransfers>();

// One pipeline per write operation, named after it; the strategy of each comes from configuration.
var dualLock = builder.Services.AddDualLock();
foreach (var operation in LockingOptions.Operations)
{
    var strategy = locking.StrategyFor(operation);
    builder.Services.Configure<DualLock.LockPipelineOptions>(operation, o => o.WaitTimeout = TimeSpan.FromMilliseconds(locking.WaitTimeoutMs));
    StrategyWiring.Register(dualLock, builder.Configuration, operation, strategy, locking, limits);
}

var health = builder.Services.AddHealthChecks()
    .AddCheck<MySqlHealthCheck>(Database.KindOf(builder.Configuration) == DatabaseKind.Postgres ? "postgres" : "mysql", tags: ["ready"])
    .AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);

// One check per operation's strategy (duallock-charge ...): Degraded while a dual strategy runs on its row lock alone,
// Unhealthy while a distributed one cannot lock (Redis known down). /health/ready lists them with the servers' checks.
foreach (var operation in LockingOptions.Operations)
{
    health.AddDualLock(operation, tags: ["ready", "locks"]);
}
builder.Services.AddOpenApi();
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("DualLock", "DualLock.*", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
    .AddPrometheusExporter());

var app = builder.Build();

// Fail at start, not at the first request: unknown strategies, missing packages, invalid stage options.
foreach (var operation in LockingOptions.Operations)
{
    _ = app.Services.GetRequiredKeyedService<DualLock.ILockStrategy>(operation);
}

await MigrateWithRetryAsync(app);

if (app.Configuration.GetValue<bool>("Diagnostics:ServerTiming"))
{
    app.UseMiddleware<ServerTimingMiddleware>();
}

app.UseMiddleware<ErrorHandlingMiddleware>();
app.UseStatusCodePages(async context =>
{
    var response = context.HttpContext.Response;
    var (code, message) = response.StatusCode switch
    {
        StatusCodes.Status404NotFound => (ErrorCodes.NotFound, "No such route."),
        StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, "This route does not accept that method."),
        StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.UnsupportedMediaType, "Unsupported content type."),
        StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "The body is too large."),
        >= 500 => (ErrorCodes.ServerError, "Unexpected server error."),
        _ => (ErrorCodes.InvalidArgument, "The request is invalid."),
    };
    await ApiJson.WriteAsync(response, response.StatusCode, ApiJson.Failure(code, message));
});

app.MapOpenApi();
app.MapScalarApiReference();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
// The lock strategies alone (what the chaos suite reads): Degraded while dual falls back, Unhealthy while distributed cannot lock.
app.MapHealthChecks("/health/locks", new HealthCheckOptions { Predicate = check => check.Tags.Contains("locks") });
app.MapPrometheusScrapingEndpoint();
app.MapUserEndpoints();
app.MapUserPointEndpoints();

var strategies = string.Join(", ", LockingOptions.Operations.Select(o => $"{o}={locking.StrategyFor(o).ToString().ToLowerInvariant()}"));
Log.Started(app.Logger, strategies, locking.KeyScope, locking.WaitTimeoutMs, locking.RaceWindowMs);
await app.RunAsync();

static async Task MigrateWithRetryAsync(WebApplication app)
{
    var database = app.Services.GetRequiredService<Database>();
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (true)
    {
        try
        {
            await Schema.MigrateAsync(database, app.Logger, CancellationToken.None);
            return;
        }
        catch (System.Data.Common.DbException ex) when (DateTime.UtcNow < deadline && Database.IsUnreachable(ex))
        {
            Log.WaitingForMySql(app.Logger, ex.Message);
            await Task.Delay(1000);
        }
    }
}
