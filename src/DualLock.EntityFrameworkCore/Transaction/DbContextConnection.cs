using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace DualLock.EntityFrameworkCore;

/// <summary>Puts a context on the lock's connection for one execution, and back on its own connection string afterwards.</summary>
internal readonly struct DbContextConnection
{
    private readonly DbContext _db;
    private readonly string? _connectionString;

    private DbContextConnection(DbContext db, string? connectionString)
    {
        _db = db;
        _connectionString = connectionString;
    }

    /// <summary>The context uses <paramref name="connection"/> without owning it: disposing the context leaves it to the transaction stage.</summary>
    public static DbContextConnection Enlist(DbContext db, DbConnection connection)
    {
        var own = db.Database.GetConnectionString();
        db.Database.SetDbConnection(connection, contextOwnsConnection: false);
        return new DbContextConnection(db, own);
    }

    /// <summary>
    /// Detaches the lock's connection (back to its pool once the transaction ends) and gives the context its own connection
    /// string again: a pooled context keeps a connection set from outside across leases, so the next lease, in or out of a
    /// lock, would otherwise find a connection that is not its own, or none.
    /// </summary>
    public void Restore()
    {
        _db.Database.UseTransaction(null);
        _db.Database.SetDbConnection(null);
        _db.Database.SetConnectionString(_connectionString);
    }
}
