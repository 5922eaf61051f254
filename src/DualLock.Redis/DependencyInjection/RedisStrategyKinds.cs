namespace DualLock.Redis;

/// <summary>
/// The Redis kinds of a configured strategy: <c>dual</c> (the Redis lock, falling back to a MySQL row lock inside) and
/// <c>distributed</c> (the Redis lock around a fenced MySQL transaction). The lock uses the registered
/// <see cref="RedisLockOptions"/>; the database part comes from <c>AddMySql()</c>, which DualLock.Redis does not reference.
/// </summary>
internal static class RedisStrategyKinds
{
    private static readonly string[] RowLockKeys = ["Database", "ConnectionString", "IsolationLevel", "Table", "KeyColumn"];
    private static readonly string[] TransactionKeys = ["Database", "ConnectionString", "IsolationLevel"];

    public static void AddTo(StrategyKinds kinds)
    {
        kinds.Add(new StrategyKind("dual", RowLockKeys, (section, pipeline, services) =>
        {
            var database = Part(kinds, "row-lock", section, pipeline, services);
            return () => pipeline.AddDual(services, static (p, sp) => p.AddRedisLock(sp), (_, _) => database!(), fallbackToDatabase: true);
        }));
        kinds.Add(new StrategyKind("distributed", TransactionKeys, (section, pipeline, services) =>
        {
            var database = Part(kinds, "fenced-transaction", section, pipeline, services);
            return () =>
            {
                pipeline.RequireFencedTransactions = true;
                pipeline.AddRedisLock(services);
                database!();
            };
        }));
    }

    private static Action? Part(StrategyKinds kinds, string part, StrategySection section, LockPipelineBuilder pipeline, IServiceProvider services)
    {
        // Database = mysql (the default) or postgres: which package's stages go inside the lock.
        var database = section.String("Database") ?? "mysql";
        var (key, package, call) = database.ToUpperInvariant() switch
        {
            "MYSQL" or "MARIADB" => (part, "DualLock.MySql", "AddMySql()"),
            "POSTGRES" or "POSTGRESQL" => ("postgres/" + part, "DualLock.PostgreSql", "AddPostgreSql()"),
            _ => (null, null, null),
        };
        if (key is null)
        {
            section.Problems.Add($"{section.Path}:Database '{database}' is not a database DualLock knows: use mysql or postgres.");
            return null;
        }

        if (kinds.DatabaseParts.TryGetValue(key, out var kind))
        {
            return kind.Read(section, pipeline, services);
        }

        section.Problems.Add($"{section.Path}:Kind '{section.Kind}' with Database '{database}' needs its database part: call {call} on the DualLock builder (package {package}).");
        return null;
    }
}
