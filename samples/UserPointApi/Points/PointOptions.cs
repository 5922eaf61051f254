namespace UserPointApi.Points;

/// <summary>The <c>Points</c> configuration section: the business limits.</summary>
public sealed class PointOptions
{
    public const string Section = "Points";

    /// <summary>Gets or sets the largest single charge.</summary>
    /// <value>Default: 1,000,000.</value>
    public long MaxCharge { get; set; } = 1_000_000;

    /// <summary>Gets or sets the largest balance.</summary>
    /// <value>Default: 10,000,000,000.</value>
    public long MaxBalance { get; set; } = 10_000_000_000;

    public IEnumerable<string> Problems()
    {
        if (MaxCharge < 1)
        {
            yield return $"Points:MaxCharge must be at least 1 (was {MaxCharge}).";
        }

        // Below 2^62 so balance + amount can never overflow a 64-bit integer.
        if (MaxBalance < 1 || MaxBalance > (1L << 62))
        {
            yield return $"Points:MaxBalance must be between 1 and 2^62 (was {MaxBalance}).";
        }
    }
}
