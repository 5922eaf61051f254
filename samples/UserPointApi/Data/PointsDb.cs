using Microsoft.EntityFrameworkCore;

namespace UserPointApi.Data;

/// <summary>
/// The EF Core model of the tables charge and use write (<c>Points:DataAccess=ef</c>); the schema itself is
/// <see cref="Schema"/>'s, so the model only maps it. A point row is keyed by <c>user_id</c> (unique), the
/// column every lock of the sample locks, so the entity row lock takes the same row as the raw one.
/// </summary>
public sealed class PointsDb(DbContextOptions<PointsDb> options) : DbContext(options)
{
    public DbSet<UserPointEntity> UserPoints => Set<UserPointEntity>();

    public DbSet<LedgerEntity> Ledger => Set<LedgerEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<UserPointEntity>(point =>
        {
            point.ToTable("user_points");
            point.HasKey(p => p.UserId);
            point.Property(p => p.UserId).HasColumnName("user_id");
            point.Property(p => p.Id).HasColumnName("id");
            point.Property(p => p.Amount).HasColumnName("amount");
            point.Property(p => p.Version).HasColumnName("version");
            point.Property(p => p.CreatedAt).HasColumnName("created_at");
            point.Property(p => p.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<LedgerEntity>(entry =>
        {
            entry.ToTable("point_ledger");
            entry.HasKey(e => e.Seq);
            entry.Property(e => e.Seq).HasColumnName("seq");
            entry.Property(e => e.Id).HasColumnName("id");
            entry.Property(e => e.UserId).HasColumnName("user_id");
            entry.Property(e => e.Type).HasColumnName("type");
            entry.Property(e => e.Amount).HasColumnName("amount");
            entry.Property(e => e.BalanceAfter).HasColumnName("balance_after");
            entry.Property(e => e.CreatedAt).HasColumnName("created_at");
            entry.Property(e => e.RefundOf).HasColumnName("refund_of");
        });
    }
}

public sealed class UserPointEntity
{
    public string UserId { get; set; } = "";

    public string Id { get; set; } = "";

    public long Amount { get; set; }

    public long Version { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

public sealed class LedgerEntity
{
    public long Seq { get; set; }

    public string Id { get; set; } = "";

    public string UserId { get; set; } = "";

    public string Type { get; set; } = "";

    public long Amount { get; set; }

    public long BalanceAfter { get; set; }

    public DateTime CreatedAt { get; set; }

    public string? RefundOf { get; set; }
}
