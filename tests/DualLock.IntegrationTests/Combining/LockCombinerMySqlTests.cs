using Dapper;
using DualLock.IntegrationTests.MySql;
using DualLock.MySql;
using DualLock.Redis;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Combining;

/// <summary>
/// Combining through the real dual composition (Redis lock, MariaDB transaction, row lock): two
/// combiners with their own Redis connections stand for two processes; many callers each add to one
/// counter row. Per-item refusals and a batch that throws must never change the oracle: the stored
/// value is exactly the sum of what was acknowledged.
/// </summary>
public sealed class LockCombinerMySqlTests
{
    private const string Poison = "poison";

    [Fact]
    public async Task TwoCombiners_DualPipeline_CombineAndLoseNothing()
    {
        await using var table = await MySqlTestTable.CreateAsync("hot");
        await using var redisA = await ConnectionMultiplexer.ConnectAsync(Servers.Redis);
        await using var redisB = await ConnectionMultiplexer.ConnectAsync(Servers.Redis);
        var prefix = $"combine-{Guid.NewGuid():N}";
        var combiners = new[] { redisA, redisB }.Select(redis => new LockCombiner<long, long>(
            new LockPipelineBuilder { WaitTimeout = TimeSpan.FromSeconds(30) }
                .AddRedisLock(redis, new RedisLockOptions { KeyPrefix = prefix })
                .AddMySqlTransaction(Servers.MySql)
                .AddMySqlRowLock(table.Name, "id")
                .Build(),
            (context, batch, ct) => AddAsync(context, batch, table.Name, ct))).ToArray();
        var key = new LockKey("counter", "hot");

        // Deltas: +10 mostly, -25 sometimes (refused alone when the counter would go negative), and a
        // poison item every 97 that makes the whole batch throw after it has written.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            var delta = i % 97 == 50 ? long.MinValue : i % 3 == 2 ? -25L : 10L;
            try
            {
                await combiners[i % 2].ExecuteAsync(key, delta, TestContext.Current.CancellationToken);
                return (Delta: delta, Outcome: "ok");
            }
            catch (InvalidOperationException ex)
            {
                return (Delta: delta, Outcome: ex.Message);
            }
        })));

        var acknowledged = outcomes.Where(o => o.Outcome == "ok").Sum(o => o.Delta);
        Assert.Equal(acknowledged, await table.ValueAsync("hot"));
        Assert.All(outcomes, o => Assert.Contains(o.Outcome, new[] { "ok", "negative", Poison }));
        Assert.Contains(outcomes, o => o.Outcome == Poison && o.Delta != long.MinValue); // a bystander of a poisoned batch
        var batches = long.Parse(await table.NoteAsync("hot") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(batches < outcomes.Count(o => o.Outcome == "ok"), $"{batches} committed batches for the acknowledged items: nothing was combined");
        Assert.All(combiners, c => Assert.Equal(0, c.KeyCount));
    }

    private static async ValueTask AddAsync(LockContext context, LockBatch<long, long> batch, string table, CancellationToken cancellationToken)
    {
        var tx = context.GetRequiredFeature<MySqlTransactionFeature>();
        var value = await tx.Connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT value FROM `{table}` WHERE id = 'hot'", transaction: tx.Transaction, cancellationToken: cancellationToken));
        var poisoned = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] == long.MinValue)
            {
                poisoned = true;
            }
            else if (value + batch[i] < 0)
            {
                batch.SetException(i, new InvalidOperationException("negative"));
            }
            else
            {
                value += batch[i];
                batch.SetResult(i, value);
            }
        }

        // The note counts committed batches; the delay lets callers pile up behind the lock.
        await Task.Delay(5, CancellationToken.None);
        await tx.Connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE `{table}` SET value = @value, note = CAST(COALESCE(note, '0') AS SIGNED) + 1 WHERE id = 'hot'",
            new { value }, tx.Transaction, cancellationToken: cancellationToken));
        if (poisoned)
        {
            throw new InvalidOperationException(Poison);
        }
    }
}
