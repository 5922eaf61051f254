using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace DualLock.EntityFrameworkCore;

/// <summary>Puts a context on the lock's connection for one execution, and takes it off again before the context is disposed.</summary>
internal readonly struct DbContextConnection
{
    private readonly DbContext _db;

    private DbContextConnection(DbContext db) => _db = db;

    /// <summary>The context uses <paramref name="connection"/> without owning it: disposing the context leaves it to the transaction stage.</summary>
    public static DbContextConnection Enlist(DbContext db, DbConnection connection)
    {
        db.Database.SetDbConnection(connection, contextOwnsConnection: false);
        return new DbContextConnection(db);
    }

    /// <summary>
    /// Detaches the lock's connection (already back to its pool by the time a pooled context is leased again): a pooled
    /// context keeps a connection set from outside across leases, so the next lease, in or out of a lock, would find it.
    /// </summary>
    public void Restore()
    {
        _db.Database.UseTransaction(null);
        _db.Database.SetDbConnection(null);
    }
}
