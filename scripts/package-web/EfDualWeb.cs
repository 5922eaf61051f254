// scripts/package-check.sh step 8: the Program.cs of a new `dotnet new web` project restored from the packed
// packages (DualLock.AspNetCore, DualLock.EntityFrameworkCore, Pomelo): the endpoint filter takes the dual lock
// (Redis outside, the transaction and the row lock read from the EF model inside) and the handler writes with
// EF Core in the lock's transaction. Not part of the solution: it compiles only against the packed packages.
using DualLock;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

var builder = WebApplication.CreateBuilder();
var mySql = builder.Configuration.GetConnectionString("MySql")! + ";AllowUserVariables=True";

builder.Services.AddDbContextFactory<PointsDb>(o => o.UseMySql(mySql, ServerVersion.Parse("10.11-mariadb")));
builder.Services.AddDualLock()
    .AddRedis(builder.Configuration.GetConnectionString("Redis")!)
    .AddDualStrategy("charge", (b, sp) =>
    {
        var contexts = sp.GetRequiredService<IDbContextFactory<PointsDb>>();
        b.AddEntityFrameworkCoreTransaction(contexts).AddEntityFrameworkCoreRowLock<PointsDb, UserPoint>(contexts);
    });
builder.Services.AddDualLockProblemDetails();

var app = builder.Build();
app.UseExceptionHandler();
app.MapPost("/users/{userId}/charge", async (long userId, long amount, HttpContext http) =>
    {
        var db = http.GetLockContext().GetDbContext<PointsDb>();
        var row = await db.UserPoints.SingleAsync(p => p.UserId == userId, http.RequestAborted);
        var before = row.Amount;
        await Task.Delay(2, http.RequestAborted); // a read-modify-write with a gap: only the lock keeps it exact
        row.Amount = before + amount;
        await db.SaveChangesAsync(http.RequestAborted);

        // Saved, and still rolled back: the error result makes the work throw inside the lock.
        return amount is > 0 and <= 1000 ? Results.Ok(row.Amount) : Results.BadRequest("a charge is 1 to 1000 points");
    })
    .WithLock("charge", "user-point", "userId");
await app.RunAsync();

public sealed class PointsDb(DbContextOptions<PointsDb> options) : DbContext(options)
{
    public DbSet<UserPoint> UserPoints => Set<UserPoint>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.Entity<UserPoint>(e =>
        {
            e.ToTable("user_points");
            e.HasKey(p => p.UserId);
            e.Property(p => p.UserId).HasColumnName("user_id").ValueGeneratedNever();
            e.Property(p => p.Amount).HasColumnName("amount");
        });
}

public sealed class UserPoint
{
    public long UserId { get; set; }

    public long Amount { get; set; }
}
