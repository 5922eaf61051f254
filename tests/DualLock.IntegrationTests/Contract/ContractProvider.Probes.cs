using System.Globalization;
using Dapper;
using DualLock.MySql;
using DualLock.TestWorker;
using MySqlConnector;
using StackExchange.Redis;

namespace DualLock.IntegrationTests.Contract;

/// <summary>The probes of the per-key state a provider's stages keep, seen from outside the stages.</summary>
public abstract partial class ContractProvider
{
    /// <summary>
    /// Describes the per-key state the stages keep for <paramref name="keys"/> right now, where it can be
    /// seen from outside: in-process entries, Redis lock and turn keys and release channels, locked rows,
    /// used named locks. Empty when nothing is held; the leak case also calls it while a key is held, to
    /// show it can see state.
    /// </summary>
    public async Task<IReadOnlyList<string>> FindHeldStateAsync(IReadOnlyList<LockKey> keys)
    {
        var found = new List<string>();
        if (Name == ContractPipelines.InProcess && _inProcess.ActiveKeyCount is var active and > 0)
        {
            found.Add($"{active} in-process key entries");
        }

        if (UsesRedis)
        {
            await FindRedisStateAsync(found);
        }

        if (HasTransaction)
        {
            await Table.FindLockedRowsAsync(TableName, found);
            if (Backends.HasFlag(ContractBackends.Fence))
            {
                await Table.FindLockedRowsAsync(Targets.FenceTable, found);
            }
        }

        if (Backends.HasFlag(ContractBackends.NamedLock))
        {
            await FindUsedNamedLocksAsync(keys, found);
        }

        if (Backends.HasFlag(ContractBackends.AdvisoryLock))
        {
            await Table.FindAdvisoryLocksAsync(Prefix, keys, found);
        }

        return found;
    }

    private async Task FindRedisStateAsync(List<string> found)
    {
        foreach (var server in RedisServers(includeMain: false))
        {
            var keys = new List<string>();
            await foreach (var key in server.KeysAsync(pattern: Prefix + ":*", pageSize: 1000))
            {
                // Fencing counters are kept on purpose so tokens keep increasing: not per-key lock state.
                if (!key.ToString().EndsWith(":fence", StringComparison.Ordinal))
                {
                    keys.Add(key!);
                }
            }

            if (keys.Count > 0)
            {
                found.Add($"{keys.Count} Redis keys on {server.EndPoint} (e.g. {string.Join(", ", keys.Take(3))})");
            }

            var channels = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "CHANNELS", Prefix + ":*"))!;
            if (channels.Length > 0)
            {
                found.Add($"{channels.Length} subscribed release channels on {server.EndPoint} (e.g. {channels[0]})");
            }
        }
    }

    private async Task FindUsedNamedLocksAsync(IReadOnlyList<LockKey> keys, List<string> found)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        var used = 0L;
        foreach (var chunk in keys.Chunk(200))
        {
            var parameters = new DynamicParameters();
            var terms = new List<string>();
            for (var i = 0; i < chunk.Length; i++)
            {
                // The stage's documented lock name: prefix + key text (hashed only beyond 64 characters, which these keys never reach).
                var name = $"{Prefix}:{chunk[i]}";
                Assert.True(name.Length <= MySqlNamedLockOptions.MaxLockNameLength, $"named lock name '{name}' is too long for the probe");
                parameters.Add($"n{i}", name);
                terms.Add(string.Create(CultureInfo.InvariantCulture, $"(IS_USED_LOCK(@n{i}) IS NOT NULL)"));
            }

            used += await connection.ExecuteScalarAsync<long>($"SELECT {string.Join(" + ", terms)}", parameters);
        }

        if (used > 0)
        {
            found.Add($"{used} named locks still in use");
        }
    }
}
