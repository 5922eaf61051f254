namespace DualLock.Redis;

/// <summary>
/// The Redis kinds of a configured strategy: <c>dual</c> (the Redis lock, falling back to a MySQL row lock inside) and
/// <c>distributed</c> (the Redis lock around a fenced MySQL transaction). The lock uses the registered
/// <see cref="RedisLockOptions"/>; the database part comes from <c>AddMySql()</c>, which DualLock.Redis does not reference.
/// </summary>
internal static class RedisStrategyKinds
{
    private static readonly string[] RowLockKeys = ["ConnectionString", "IsolationLevel", "Table", "KeyColumn"];
    private static readonly string[] TransactionKeys = ["ConnectionString", "IsolationLevel"];

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
        if (kinds.DatabaseParts.TryGetValue(part, out var kind))
        {
            return kind.Read(section, pipeline, services);
        }

        section.Problems.Add($"{section.Path}:Kind '{section.Kind}' needs the MySQL database part: call AddMySql() on the DualLock builder (package DualLock.MySql).");
        return null;
    }
}
