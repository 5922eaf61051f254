namespace DualLock.TestWorker;

/// <summary>The scenarios a test can run in this second process, by name.</summary>
internal static partial class Scenarios
{
    public static readonly Dictionary<string, Func<string[], CancellationToken, Task<int>>> All = new(StringComparer.Ordinal)
    {
        ["ping"] = (_, _) =>
        {
            Console.WriteLine("{\"ok\":true}");
            return Task.FromResult(0);
        },
    };

    /// <summary>Adds scenarios from other files (one per area) before Main looks them up.</summary>
    static Scenarios()
    {
        RegisterRedis(All);
        RegisterMySql(All);
        RegisterContract(All);
        RegisterCoordination(All);
    }

    static partial void RegisterRedis(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios);

    static partial void RegisterMySql(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios);

    static partial void RegisterContract(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios);

    static partial void RegisterCoordination(Dictionary<string, Func<string[], CancellationToken, Task<int>>> scenarios);
}
