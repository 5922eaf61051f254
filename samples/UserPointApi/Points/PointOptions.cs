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

    /// <summary>Gets or sets how charge and use read and write the balance: <c>raw</c> (Dapper statements) or <c>ef</c> (EF Core).</summary>
    /// <value>Default: <c>raw</c>. Under <c>ef</c> charge and use run under none, pessimistic, distributed or dual only; refund and transfer stay raw.</value>
    public string DataAccess { get; set; } = Raw;

    /// <summary>Gets or sets the server version Pomelo generates SQL for under <c>ef</c>: given, not detected, so the start needs no round trip.</summary>
    /// <value>Default: <c>10.11-mariadb</c>.</value>
    public string EfServerVersion { get; set; } = "10.11-mariadb";

    public const string Raw = "raw";
    public const string Ef = "ef";

    public bool UsesEf => string.Equals(DataAccess, Ef, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Problems()
    {
        if (!string.Equals(DataAccess, Raw, StringComparison.OrdinalIgnoreCase) && !UsesEf)
        {
            yield return $"Points:DataAccess must be raw or ef (was '{DataAccess}').";
        }

        if (UsesEf && !Microsoft.EntityFrameworkCore.ServerVersion.TryParse(EfServerVersion, out _))
        {
            yield return $"Points:EfServerVersion must be a server version such as 10.11-mariadb or 8.0.36-mysql (was '{EfServerVersion}').";
        }

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
