using System.Data;
using DualLock.MySql;

namespace DualLock;

/// <summary>
/// The MySQL kinds of a configured strategy (<c>pessimistic</c>, <c>named-lock</c>, <c>optimistic</c>) and the database
/// parts the Redis kinds put inside their lock (<c>row-lock</c> for dual, <c>fenced-transaction</c> for distributed).
/// </summary>
internal static class MySqlStrategyKinds
{
    private static readonly string[] TransactionKeys = ["ConnectionString", "IsolationLevel"];
    private static readonly string[] RowLockKeys = ["ConnectionString", "IsolationLevel", "Table", "KeyColumn"];
    private static readonly string[] OptimisticKeys = ["ConnectionString", "IsolationLevel", "MaxAttempts", "RetryDelay", "MaxRetryDelay"];

    public static void AddTo(StrategyKinds kinds)
    {
        var rowLock = new StrategyKind("row-lock", RowLockKeys, static (section, pipeline, _) => RowLock(section, pipeline, fenced: false));
        kinds.Add(rowLock with { Name = "pessimistic" });
        kinds.DatabaseParts["row-lock"] = rowLock; // as the dual preset of the README: the row lock keeps it exact, no fence
        kinds.DatabaseParts["fenced-transaction"] = new StrategyKind("fenced-transaction", TransactionKeys, static (section, pipeline, _) =>
        {
            var transaction = Transaction(section, fenced: true);
            return () => pipeline.AddMySqlTransaction(transaction);
        });
        kinds.Add(new StrategyKind("named-lock", TransactionKeys, static (section, pipeline, _) =>
        {
            var transaction = Transaction(section, fenced: false);
            var named = new MySqlNamedLockOptions { ConnectionString = transaction.ConnectionString };
            section.AddAll(named.Validate());
            return () => pipeline.AddMySqlNamedLock(named).AddMySqlTransaction(transaction);
        }));
        kinds.Add(new StrategyKind("optimistic", OptimisticKeys, static (section, pipeline, _) =>
        {
            var options = new MySqlOptimisticOptions
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
            return () => Microsoft.Extensions.DependencyInjection.MySqlDualLockBuilderExtensions.Optimistic(pipeline, options);
        }));
    }

    private static Action RowLock(StrategySection section, LockPipelineBuilder pipeline, bool fenced)
    {
        var transaction = Transaction(section, fenced);
        var row = new MySqlRowLockOptions { Table = section.String("Table"), KeyColumn = section.String("KeyColumn") };
        section.AddAll(row.Validate());
        return () => pipeline.AddMySqlTransaction(transaction).AddMySqlRowLock(row);
    }

    private static MySqlTransactionOptions Transaction(StrategySection section, bool fenced)
    {
        var options = new MySqlTransactionOptions
        {
            ConnectionString = section.String("ConnectionString"),
            IsolationLevel = section.Enum<IsolationLevel>("IsolationLevel") ?? IsolationLevel.ReadCommitted,
            EnforceFencing = fenced,
        };
        section.AddAll(options.Validate());
        return options;
    }
}
