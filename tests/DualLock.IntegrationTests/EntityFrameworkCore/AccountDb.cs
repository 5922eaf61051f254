using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace DualLock.IntegrationTests.EntityFrameworkCore;

/// <summary>The EF Core model the tests lock and write through: one table of accounts, keyed by a text id.</summary>
public sealed class AccountDb(DbContextOptions<AccountDb> options) : DbContext(options)
{
    public const string Table = "duallock_ef_accounts";

    public DbSet<Account> Accounts => Set<Account>();

    /// <summary>Options on <paramref name="connectionString"/> (the servers' by default); no server round trip to build them.</summary>
    public static DbContextOptions<AccountDb> Options(string? connectionString = null)
        => new DbContextOptionsBuilder<AccountDb>()
            .UseMySql(connectionString ?? Servers.MySql, new MariaDbServerVersion(new Version(10, 11)))
            .Options;

    /// <summary>A factory handing out a new context per call, as AddDbContextFactory registers.</summary>
    public static IDbContextFactory<AccountDb> Factory(string? connectionString = null) => new NewContexts(Options(connectionString));

    /// <summary>A pooled factory, as AddPooledDbContextFactory registers: contexts come back reset, not new.</summary>
    public static IDbContextFactory<AccountDb> Pooled() => new PooledDbContextFactory<AccountDb>(Options(), poolSize: 2);

    /// <summary>Creates the shared table once; each test uses rows of its own (a new id).</summary>
    public static async Task<string> NewAccountAsync(long balance = 0)
    {
        var id = $"ef{Guid.NewGuid():N}";
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"CREATE TABLE IF NOT EXISTS `{Table}` (id VARCHAR(64) NOT NULL PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB");
        await connection.ExecuteAsync($"INSERT INTO `{Table}` (id, balance) VALUES (@id, @balance)", new { id, balance });
        return id;
    }

    /// <summary>The committed balance, read on a connection of its own; null when the row does not exist.</summary>
    public static async Task<long?> BalanceAsync(string id)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long?>($"SELECT balance FROM `{Table}` WHERE id = @id", new { id });
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.Entity<Account>(account =>
        {
            account.ToTable(Table);
            account.Property(a => a.Id).HasColumnName("id").HasMaxLength(64);
            account.Property(a => a.Balance).HasColumnName("balance");
        });

    private sealed class NewContexts(DbContextOptions<AccountDb> options) : IDbContextFactory<AccountDb>
    {
        public AccountDb CreateDbContext() => new(options);
    }
}

public sealed class Account
{
    public string Id { get; set; } = string.Empty;

    public long Balance { get; set; }
}
