using System.Globalization;
using Dapper;
using DualLock.MySql;
using DualLock.Redis;

namespace DualLock.TestWorker;

/// <summary>
/// MySQL scenarios for the second OS process. <c>mysql-increment</c> runs a read-modify-write of one
/// row from many tasks, with a real gap between the read and the write, under the lock <c>mode</c> names.
/// </summary>
internal static partial class Scenarios
{
    static partial void RegisterMySql(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios)
    {
        // args: mode table id tasks iterations startAtUnixMs
        scenarios["mysql-increment"] = MySqlIncrementAsync;
    }

    private static async Task<int> MySqlIncrementAsync(string[] args, CancellationToken cancellationToken)
    {
        var mode = args[0];
        var table = args[1];
        var key = new LockKey("counter", args[2]);
        var tasks = int.Parse(args[3], CultureInfo.InvariantCulture);
        var iterations = int.Parse(args[4], CultureInfo.InvariantCulture);
        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(args[5], CultureInfo.InvariantCulture));
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__MySql")
            ?? throw new InvalidOperationException("ConnectionStrings__MySql is not set.");

        Func<Task> increment = MySqlIncrements.Create(mode, connectionString, table, key, cancellationToken);

        // Both processes start together so their tasks really contend.
        var wait = startAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }

        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(
            async () =>
            {
                for (var i = 0; i < iterations; i++)
                {
                    await increment();
                }
            },
            cancellationToken)));

        Console.WriteLine($"{{\"ok\":true,\"increments\":{tasks * iterations}}}");
        return 0;
    }
}

internal sealed class NoServices : IServiceProvider
{
    public static readonly NoServices Instance = new();

    public object? GetService(Type serviceType) => null;
}

/// <summary>One read-modify-write of <c>value</c> per call, under the lock a mode names.</summary>
internal static class MySqlIncrements
{
    /// <summary>The gap between read and write: long enough that unserialised writers overlap.</summary>
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(2);

    public static Func<Task> Create(string mode, string connectionString, string table, LockKey key, CancellationToken cancellationToken)
    {
        if (mode == "optimistic")
        {
            var optimistic = new LockPipelineBuilder
            {
                Name = "increment-optimistic",
                WaitTimeout = TimeSpan.FromSeconds(60),
                ConflictRetry = new ConflictRetryOptions { MaxAttempts = 10_000, RetryDelay = TimeSpan.FromMilliseconds(2), MaxRetryDelay = TimeSpan.FromMilliseconds(50) },
            }.AddMySqlTransaction(connectionString).Build();
            return async () => await optimistic.ExecuteAsync(
                key,
                async (context, ct) =>
                {
                    var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
                    var row = await tx.Connection.QuerySingleAsync<(long Value, long Version)>(
                        $"SELECT value, version FROM `{table}` WHERE id = @id", new { id = key.Id }, tx.Transaction);
                    await Task.Delay(Gap, ct);
                    var changed = await tx.Connection.ExecuteAsync(
                        $"UPDATE `{table}` SET value = @value, version = version + 1 WHERE id = @id AND version = @version",
                        new { id = key.Id, value = row.Value + 1, version = row.Version },
                        tx.Transaction);
                    if (changed == 0)
                    {
                        throw new OptimisticConflictException();
                    }
                },
                cancellationToken: cancellationToken);
        }

        var builder = new LockPipelineBuilder { Name = $"increment-{mode}", WaitTimeout = TimeSpan.FromSeconds(60) };
        switch (mode)
        {
            case "row":
                builder.AddMySqlTransaction(connectionString).AddMySqlRowLock(table, "id");
                break;
            case "row-nowait":
                builder.AddMySqlTransaction(connectionString).AddMySqlRowLock(table, "id", o => o.WaitMode = MySqlRowLockWaitMode.NoWaitRetry);
                break;
            case "named":
                builder.AddMySqlNamedLock(connectionString).AddMySqlTransaction(connectionString);
                break;
            case "dual":
                // The documented composition: Redis outside, transaction + row lock inside, Redis released after the commit.
                var redis = StackExchange.Redis.ConnectionMultiplexer.Connect(
                    Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? throw new InvalidOperationException("ConnectionStrings__Redis is not set."));
                builder.AddDual(
                    NoServices.Instance,
                    distributed: (b, _) => b.AddRedisLock(redis, new RedisLockOptions { KeyPrefix = "duallock-test" }),
                    database: (b, _) => b.AddMySqlTransaction(connectionString).AddMySqlRowLock(table, "id"));
                break;
            case "none":
                builder.AddNoLock().AddMySqlTransaction(connectionString);
                break;
            default:
                throw new ArgumentException($"Unknown mode '{mode}'.", nameof(mode));
        }

        var pipeline = builder.Build();
        return async () => await pipeline.ExecuteAsync(
            key,
            async (context, ct) =>
            {
                var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
                var value = await tx.Connection.ExecuteScalarAsync<long>(
                    new CommandDefinition($"SELECT value FROM `{table}` WHERE id = @id", new { id = key.Id }, tx.Transaction, cancellationToken: ct));
                await Task.Delay(Gap, ct);
                await tx.Connection.ExecuteAsync(
                    new CommandDefinition($"UPDATE `{table}` SET value = @value WHERE id = @id", new { id = key.Id, value = value + 1 }, tx.Transaction, cancellationToken: ct));
            },
            cancellationToken: cancellationToken);
    }
}
