namespace DualLock;

/// <summary>Composes a dual pipeline from a distributed part and a database part.</summary>
internal static class DualPipelineBuilderExtensions
{
    /// <summary>
    /// Adds the <paramref name="distributed"/> stages outside the <paramref name="database"/> stages;
    /// see <see cref="Microsoft.Extensions.DependencyInjection.DualLockBuilder.AddDualPipeline"/>.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="services">The service provider passed to both parts.</param>
    /// <param name="distributed">Adds the outer, distributed stages.</param>
    /// <param name="database">Adds the inner, database stages.</param>
    /// <param name="fallbackToDatabase">Continue under the database lock alone when the distributed lock service is unavailable.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">Either part added no stage.</exception>
    internal static LockPipelineBuilder AddDual(
        this LockPipelineBuilder builder,
        IServiceProvider services,
        Action<LockPipelineBuilder, IServiceProvider> distributed,
        Action<LockPipelineBuilder, IServiceProvider> database,
        bool fallbackToDatabase = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(distributed);
        ArgumentNullException.ThrowIfNull(database);

        var first = builder.StageCount;
        distributed(builder, services);
        if (builder.StageCount == first)
        {
            throw new InvalidOperationException($"The distributed part of dual pipeline '{builder.Name}' added no stage.");
        }

        if (fallbackToDatabase)
        {
            builder.ContinueIfUnavailable(first);
        }

        var inner = builder.StageCount;
        database(builder, services);
        if (builder.StageCount == inner)
        {
            // Without a database lock a fallback would run the work with no lock at all.
            throw new InvalidOperationException($"The database part of dual pipeline '{builder.Name}' added no stage.");
        }

        return builder;
    }
}
