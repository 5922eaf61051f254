using Dapper;
using DualLock.FaultSearch.Workload;
using MySqlConnector;
using Npgsql;

namespace DualLock.FaultSearch.Check;

/// <summary>One committed ledger row, in commit order per key (auto-increment id: a holder's row is written inside its lock).</summary>
internal sealed record LedgerRow(long Id, string CallId, string Holder, string Strategy, string KeyId, string Kind, long? Token, int Pid);

/// <summary>What the ledger holds after the run.</summary>
internal sealed record LedgerSnapshot(IReadOnlyList<LedgerRow> Rows, IReadOnlyDictionary<string, long> Counters)
{
    private const string RowsSql =
        $"SELECT id AS Id, call_id AS CallId, holder AS Holder, strategy AS Strategy, key_id AS KeyId, kind AS Kind, token AS Token, pid AS Pid FROM {Ledger.Table} ORDER BY id";

    private const string CountersSql = $"SELECT key_id, value FROM {Ledger.Counters}";

    /// <summary>Reads MariaDB's ledger and, when the run had postgres-* strategies, PostgreSQL's (ids do not overlap, keys are per strategy).</summary>
    public static async Task<LedgerSnapshot> ReadAsync(string mySql, string? postgres)
    {
        await using var connection = new MySqlConnection(mySql);
        await connection.OpenAsync();
        var rows = (await connection.QueryAsync<LedgerRow>(RowsSql)).ToList();
        var counters = (await connection.QueryAsync<(string Key, long Value)>(CountersSql)).ToDictionary(c => c.Key, c => c.Value);
        if (postgres is not null)
        {
            await using var pg = new NpgsqlConnection(Ledger.Unpooled(postgres));
            await pg.OpenAsync();
            rows.AddRange(await pg.QueryAsync<LedgerRow>(RowsSql));
            foreach (var (key, value) in await pg.QueryAsync<(string Key, long Value)>(CountersSql))
            {
                counters.Add(key, value);
            }
        }

        return new LedgerSnapshot(rows, counters);
    }
}
