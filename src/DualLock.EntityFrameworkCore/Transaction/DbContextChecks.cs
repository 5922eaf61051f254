using DualLock.MySql;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace DualLock.EntityFrameworkCore;

/// <summary>What a context and the lock's connection string need for the context to write through the lock's transaction, checked once when the stage is added.</summary>
internal static class DbContextChecks
{
    /// <summary>The provider whose connection type is the transaction stage's (MySqlConnector's <see cref="MySqlConnection"/>).</summary>
    public const string PomeloProvider = "Pomelo.EntityFrameworkCore.MySql";

    /// <summary>Adds the problems of <paramref name="db"/> as the lock's context: another provider, or an execution strategy that retries.</summary>
    public static void Context(DbContext db, ICollection<string> problems)
    {
        var name = db.GetType().Name;
        if (db.Database.ProviderName != PomeloProvider)
        {
            problems.Add($"{name} must use the provider {PomeloProvider} (was '{db.Database.ProviderName}'); the lock's transaction is a MySqlConnector connection.");
            return;
        }

        // EF Core refuses a retrying strategy inside a transaction it did not begin, at the work's first query.
        if (db.Database.CreateExecutionStrategy().RetriesOnFailure)
        {
            problems.Add($"{name} must not enable retries on failure (EnableRetryOnFailure) for the lock's context: EF Core refuses a retrying execution strategy in a transaction it did not begin, and a retry of the work belongs to the pipeline, not to EF Core.");
        }
    }

    /// <summary>Pomelo refuses a connection it did not open unless its connection string allows user variables and reports found rows, not affected ones.</summary>
    public static void ConnectionString(MySqlTransactionOptions options, ICollection<string> problems)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return; // the options' own validation reports it
        }

        MySqlConnectionStringBuilder settings;
        try
        {
            settings = new MySqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            problems.Add($"MySqlTransactionOptions.ConnectionString must be a MySqlConnector connection string ({ex.Message}).");
            return;
        }

        // Only the two settings are quoted: the connection string itself may carry a password.
        OptionChecks.For(options, problems).That(
            settings.AllowUserVariables && !settings.UseAffectedRows,
            nameof(MySqlTransactionOptions.ConnectionString),
            $"AllowUserVariables={settings.AllowUserVariables};UseAffectedRows={settings.UseAffectedRows}",
            "must set AllowUserVariables=True and UseAffectedRows=False",
            "Pomelo.EntityFrameworkCore.MySql refuses, inside the lock, a connection it did not open without both, and the DbContext writes through the lock's connection");
    }
}
