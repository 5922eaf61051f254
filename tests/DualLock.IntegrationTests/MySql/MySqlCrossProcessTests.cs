using System.Globalization;

namespace DualLock.IntegrationTests.MySql;

/// <summary>
/// 64 concurrent read-modify-writes of one row, split over two worker OS processes (32 tasks each),
/// with a real gap between read and write. Each lock must give the exact count; the no-lock control
/// must lose updates, which proves the test can see a loss.
/// </summary>
public sealed class MySqlCrossProcessTests
{
    private const int TasksPerProcess = 32;
    private const int Iterations = 4;
    private const int Expected = 2 * TasksPerProcess * Iterations;

    [Theory]
    [InlineData("row")]
    [InlineData("row-nowait")]
    [InlineData("named")]
    [InlineData("optimistic")]
    [InlineData("dual")]
    public async Task Increment_64TasksOverTwoProcesses_GivesExactCount(string mode)
    {
        var final = await RunAsync(mode);
        Assert.Equal(Expected, final);
    }

    [Fact]
    public async Task Increment_NoLockNegativeControl_LosesUpdates()
    {
        var final = await RunAsync("none");
        Assert.True(final < Expected, $"Without a lock {Expected} overlapping read-modify-writes should lose updates, but the count is {final}.");
    }

    internal static async Task<long> RunAsync(string mode, params string[] extra)
    {
        await using var table = await MySqlTestTable.CreateAsync("hot");
        var startAt = DateTimeOffset.UtcNow.AddSeconds(3).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        string[] args = [mode, table.Name, "hot", TasksPerProcess.ToString(CultureInfo.InvariantCulture), Iterations.ToString(CultureInfo.InvariantCulture), startAt, .. extra];
        await using var first = WorkerProcess.Start("mysql-increment", args);
        await using var second = WorkerProcess.Start("mysql-increment", args);
        var results = await Task.WhenAll(first.ResultAsync(TimeSpan.FromSeconds(90)), second.ResultAsync(TimeSpan.FromSeconds(90)));
        Assert.All(results, r => Assert.True(r.GetProperty("ok").GetBoolean()));
        return await table.ValueAsync("hot");
    }
}
