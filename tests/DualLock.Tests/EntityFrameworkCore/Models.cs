using Microsoft.EntityFrameworkCore;

namespace DualLock.Tests.EntityFrameworkCore;

/// <summary>Models built with Pomelo and a fixed server version: building one never connects, so these tests need no server.</summary>
public sealed class ModelDb(DbContextOptions<ModelDb> options) : DbContext(options)
{
    public const string ConnectionString = "Server=127.0.0.1;Port=1;Database=none;User ID=u;Password=hunter2-secret;AllowUserVariables=True";

    public static IDbContextFactory<ModelDb> Factory(string connectionString = ConnectionString, bool retry = false)
        => new Contexts(new DbContextOptionsBuilder<ModelDb>()
            .UseMySql(connectionString, new MariaDbServerVersion(new Version(10, 11)), o =>
            {
                if (retry)
                {
                    o.EnableRetryOnFailure();
                }
            })
            .Options);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Wallet>(e =>
        {
            e.ToTable("wallets");
            e.Property(w => w.WalletId).HasColumnName("wallet_id");
        });
        modelBuilder.Entity<Seat>().ToTable("concert-seats").Property(s => s.Id).HasColumnName("seat no");
        modelBuilder.Entity<Pair>().ToTable("pairs").HasKey(p => new { p.Left, p.Right });
        modelBuilder.Entity<Report>().HasNoKey().ToView("reports");
    }

    private sealed class Contexts(DbContextOptions<ModelDb> options) : IDbContextFactory<ModelDb>
    {
        public ModelDb CreateDbContext() => new(options);
    }
}

public sealed class Wallet
{
    public long WalletId { get; set; }

    public long Balance { get; set; }
}

public sealed class Seat
{
    public int Id { get; set; }
}

public sealed class Pair
{
    public int Left { get; set; }

    public int Right { get; set; }
}

public sealed class Report
{
    public long Total { get; set; }
}

public sealed class NotMapped
{
    public int Id { get; set; }
}
