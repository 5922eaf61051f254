using System.Data;
using DualLock.PostgreSql;

namespace DualLock;

/// <summary>
/// The PostgreSQL kinds of a configured strategy (<c>postgres-pessimistic</c>, <c>postgres-advisory-lock</c>,
/// <c>postgres-optimistic</c>) and the database parts the Redis kinds put inside their lock when their section says
/// <c>Database = postgres</c> (<c>postgres/row-lock</c> for dual, <c>postgres/fenced-transaction</c> for distributed).
/// </summary>
internal static class PostgresStrategyKinds
{
    private static readonly string[] TransactionKeys = ["ConnectionString", "IsolationLevel"];
    private static readonly string[] RowLockKeys = ["ConnectionString", "IsolationLevel", "Table", "KeyColumn"];
    private static readonly string[] OptimisticKeys = ["ConnectionString", "IsolationLevel", "MaxAttempts", "RetryDelay", "MaxRetryDelay"];

    public static void AddTo(StrategyKinds kinds)
    {
        var rowLock = new StrategyKind("postgres/row-lock", RowLockKeys, static (section, pipeline, _) =>
        {
            var transaction = Transaction(section, fenced: false);
            var row = new PostgresRowLockOptions { Table = section.String("Table"), KeyColumn = section.String("KeyColumn") };
            section.AddAll(row.Validate());
            return () => pipeline.AddPostgresTransaction(transaction).AddPostgresRowLock(row);
        });
        kinds.Add(rowLock with { Name = "postgres-pessimistic" });
        kinds.DatabaseParts["postgres/row-lock"] = rowLock;
        kinds.DatabaseParts["postgres/fenced-transaction"] = new StrategyKind("postgres/fenced-transaction", TransactionKeys, static (section, pipeline, _) =>
        {
            var transaction = Transaction(section, fenced: true);
            return () => pipeline.AddPostgresTransaction(transaction);
        });
        kinds.Add(new StrategyKind("postgres-advisory-lock", TransactionKeys, static (section, pipeline, _) =>
        {
            var transaction = Transaction(section, fenced: false);
            return () => pipeline.AddPostgresTransaction(transaction).AddPostgresAdvisoryLock();
        }));
        kinds.Add(new StrategyKind("postgres-optimistic", OptimisticKeys, static (section, pipeline, _) =>
        {
            var options = new PostgresOptimisticOptions
            {
                ConnectionString = section.String("ConnectionString"),
                IsolationLevel = section.Enum<IsolationLevel>("IsolationLevel") ?? IsolationLevel.ReadCommitted,
            };
            options.MaxAttempts = section.Int(nameof(options.MaxAttempts)) ?? options.MaxAttempts;
            options.RetryDelay = section.Duration(nameof(options.RetryDelay)) ?? options.RetryDelay;
            options.MaxRetryDelay = section.Duration(nameof(options.MaxRetryDelay)) ?? options.MaxRetryDelay;
            var problems = new List<string>();
            options.Validate(problems);
            section.AddAll(problems);
            return () => Microsoft.Extensions.DependencyInjection.PostgresDualLockBuilderExtensions.Optimistic(pipeline, options);
        }));
    }

    private static PostgresTransactionOptions Transaction(StrategySection section, bool fenced)
    {
        var options = new PostgresTransactionOptions
        {
            ConnectionString = section.String("ConnectionString"),
            IsolationLevel = section.Enum<IsolationLevel>("IsolationLevel") ?? IsolationLevel.ReadCommitted,
            EnforceFencing = fenced,
        };
        section.AddAll(options.Validate());
        return options;
    }
}
