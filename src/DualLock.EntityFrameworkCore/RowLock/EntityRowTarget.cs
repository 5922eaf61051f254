using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace DualLock.EntityFrameworkCore;

/// <summary>The row a key locks for an entity type: its table and its one key column, read from the model.</summary>
internal static class EntityRowTarget
{
    /// <summary>
    /// Points <paramref name="options"/> at the entity's table and key column. Plain names go in
    /// <see cref="MySqlRowLockOptions.Table"/>/<see cref="MySqlRowLockOptions.KeyColumn"/>, so the row lock runs exactly as
    /// <c>AddMySqlRowLock</c> (a key set in one statement); other names, or a schema, are quoted by the provider into
    /// <see cref="MySqlRowLockOptions.Sql"/>.
    /// </summary>
    public static void Apply(DbContext db, Type entityType, MySqlRowLockOptions options, ICollection<string> problems)
    {
        var context = db.GetType().Name;
        var entity = db.Model.FindEntityType(entityType);
        if (entity is null)
        {
            problems.Add($"{entityType.Name} must be an entity type of {context}'s model.");
            return;
        }

        var table = entity.GetTableName();
        if (table is null)
        {
            problems.Add($"{entityType.Name} must be mapped to a table in {context} (it is mapped to a view, a query or nothing): a row lock needs a row of a table.");
            return;
        }

        var key = entity.FindPrimaryKey();
        if (key is null || key.Properties.Count != 1)
        {
            var columns = key is null ? "none" : string.Join(", ", key.Properties.Select(p => p.Name));
            problems.Add($"{entityType.Name} must have a primary key of one property in {context} (was {columns}): a LockKey has one id.");
            return;
        }

        var schema = entity.GetSchema();
        var column = key.Properties[0].GetColumnName(StoreObjectIdentifier.Table(table, schema)) ?? key.Properties[0].Name;
        if (schema is null && IsPlain(table) && IsPlain(column))
        {
            options.Table = table;
            options.KeyColumn = column;
            return;
        }

        var sql = db.GetService<ISqlGenerationHelper>();
        options.Sql = $"SELECT 1 FROM {sql.DelimitIdentifier(table, schema)} WHERE {sql.DelimitIdentifier(column)} = @id FOR UPDATE"
            + (options.WaitMode == MySqlRowLockWaitMode.NoWaitRetry ? " NOWAIT" : string.Empty);
    }

    private static bool IsPlain(string name) => OptionChecks.For(name, new List<string>(0)).Plain("name", name);
}
