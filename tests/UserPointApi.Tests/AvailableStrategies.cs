namespace UserPointApi.Tests;

/// <summary>The locking strategies the sample wires (the positive side of the oracle).</summary>
public static class AvailableStrategies
{
    public static readonly string[] Locking = ["dual", "pessimistic", "distributed", "redlock", "named", "optimistic", "atomic", "combined"];
}
