namespace DualLock.IntegrationTests;

public sealed class WorkerProcessTests
{
    [Fact]
    public async Task Start_Ping_ReturnsJsonResult()
    {
        await using var worker = WorkerProcess.Start("ping");
        var result = await worker.ResultAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.GetProperty("ok").GetBoolean());
    }
}
