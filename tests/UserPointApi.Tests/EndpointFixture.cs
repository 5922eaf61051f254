using UserPointApi.Tests.Infrastructure;

namespace UserPointApi.Tests;

/// <summary>One API on the default strategy with a small maximum balance, so the overflow rule is reachable.</summary>
public sealed class EndpointFixture : ApiFixture
{
    public const long MaxBalance = 5_000_000;

    public static string Strategy => Environment.GetEnvironmentVariable("USERPOINTAPI_TEST_STRATEGY") ?? "dual";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Locking__Strategy"] = Strategy,
        ["Points__MaxBalance"] = MaxBalance.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
