using Dapper;
using DualLock.FaultSearch.Workload;
using MySqlConnector;

namespace DualLock.FaultSearch.Check;

/// <summary>One committed ledger row, in commit order per key (auto-increment id: a holder's row is written inside its lock).</summary>
internal sealed record LedgerRow(long Id, string CallId, string Holder, string Strategy, string KeyId, string Kind, long? Token, int Pid);

/// <summary>What the ledger holds after the run.</summary>
internal sealed record LedgerSnapshot(IReadOnlyList<LedgerRow> Rows, IReadOnlyDictionary<string, long> Counters)
{
    public static async Task<LedgerSnapshot> ReadAsync(string connectionString)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var rows = await connection.QueryAsync<LedgerRow>(
            $"SELECT id AS Id, call_id AS CallId, holder AS Holder, strategy AS Strategy, key_id AS KeyId, kind AS Kind, token AS Token, pid AS Pid FROM {Ledger.Table} ORDER BY id");
        var counters = await connection.QueryAsync<(string Key, long Value)>($"SELECT key_id, value FROM {Ledger.Counters}");
        return new LedgerSnapshot([.. rows], counters.ToDictionary(c => c.Key, c => c.Value));
    }
}
