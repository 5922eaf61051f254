using Dapper;
using DualLock.IntegrationTests;

namespace DualLock.AspNetCore.Tests;

/// <summary>A table of the test's own on the real MariaDB (<c>id BIGINT</c>, <c>amount BIGINT</c>), dropped at the end.</summary>
public sealed class PointTable : IAsyncDisposable
{
    private PointTable(string name) => Name = name;

    public string Name { get; }

    public static async Task<PointTable> CreateAsync(params long[] ids)
    {
        var table = new PointTable("aspnet_" + Guid.NewGuid().ToString("N")[..12]);
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"CREATE TABLE `{table.Name}` (id BIGINT NOT NULL PRIMARY KEY, amount BIGINT NOT NULL) ENGINE=InnoDB");
        foreach (var id in ids)
        {
            await connection.ExecuteAsync($"INSERT INTO `{table.Name}` (id, amount) VALUES (@id, 0)", new { id });
        }

        return table;
    }

    public async Task<long> AmountAsync(long id)
    {
        await using var connection = await Servers.OpenMySqlAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT amount FROM `{Name}` WHERE id = @id", new { id });
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = await Servers.OpenMySqlAsync();
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS `{Name}`");
    }
}
