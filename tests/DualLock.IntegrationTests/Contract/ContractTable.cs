using System.Globalization;

namespace DualLock.IntegrationTests.Contract;

/// <summary>
/// The database side of a provider with a transaction: the test table (<c>id</c>, <c>value</c>, <c>note</c>) the work
/// marks, its rows for the row lock, and the probes of the locks left on it. One per test, in MariaDB or PostgreSQL,
/// so the same contract cases run against both.
/// </summary>
public abstract class ContractTable : IAsyncDisposable
{
    protected ContractTable(string name) => Name = name;

    /// <summary>Gets the table's name (unique per test, lowercase so both servers take it unquoted too).</summary>
    public string Name { get; }

    /// <summary>Gets the fence table's name, as the contract pipelines configure it.</summary>
    public string FenceTable => Name + "_f";

    public static async Task<ContractTable> CreateAsync(bool postgres)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"duallock_t_{Guid.NewGuid():N}")[..30];
        ContractTable table = postgres ? new PostgresContractTable(name) : new MySqlContractTable(name);
        await table.CreateAsync();
        return table;
    }

    /// <summary>Inserts one row per key (what a row lock selects).</summary>
    public abstract Task InsertAsync(IReadOnlyList<LockKey> keys);

    /// <summary>Writes a mark per key of the context through the work's transaction (value + 1, note).</summary>
    public abstract ValueTask WriteMarkAsync(LockContext context, string note);

    public abstract Task<string?> CommittedNoteAsync(LockKey key);

    /// <summary>Gets the committed marks of one key, or of all keys when <paramref name="key"/> is null.</summary>
    public abstract Task<long> CommittedMarksAsync(LockKey? key);

    /// <summary>Adds a line to <paramref name="found"/> when a transaction the stages left open still locks rows of <paramref name="table"/>.</summary>
    public abstract Task FindLockedRowsAsync(string table, List<string> found);

    /// <summary>Adds a line to <paramref name="found"/> for each advisory lock still held on the keys (PostgreSQL only).</summary>
    public virtual Task FindAdvisoryLocksAsync(string lockNamespace, IReadOnlyList<LockKey> keys, List<string> found)
        => throw new NotSupportedException($"{GetType().Name} has no advisory locks.");

    public abstract ValueTask DisposeAsync();

    protected abstract Task CreateAsync();
}
