namespace DualLock.IntegrationTests.Contract;

/// <summary>The contract of a lock that excludes across OS processes (every stage but the in-process one).</summary>
/// <typeparam name="TProvider">The stage under test.</typeparam>
public abstract class ExclusiveLockContractTests<TProvider> : LockContractTests<TProvider>
    where TProvider : ContractProvider, new()
{
    [Fact]
    [ContractCase(ContractCase.CrossProcessExclusion)]
    public async Task ExecuteAsync_RacyCounterInTwoProcesses_CountIsExact()
    {
        var (final, expected) = await RunCounterInTwoProcessesAsync();

        Assert.Equal(expected, final);
    }
}
