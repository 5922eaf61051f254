namespace DualLock;

/// <summary>
/// The keys of a multi-key execution, made canonical: distinct and sorted by resource, id and scope
/// (ordinal), so that every caller, in every process, acquires a set in the same order and two
/// executions over overlapping sets cannot each hold a key the other waits for.
/// </summary>
internal static class LockKeySet
{
    /// <summary>The most keys one execution may lock: the set is held for the whole work, so it is bounded.</summary>
    public const int MaxKeys = 64;

    /// <summary>Orders keys canonically; ordinal, so the order is the same on every machine and culture.</summary>
    public static readonly IComparer<LockKey> Order = Comparer<LockKey>.Create(static (a, b) =>
    {
        var byResource = string.CompareOrdinal(a.Resource, b.Resource);
        if (byResource != 0)
        {
            return byResource;
        }

        var byId = string.CompareOrdinal(a.Id, b.Id);
        return byId != 0 ? byId : string.CompareOrdinal(a.Scope, b.Scope);
    });

    /// <summary>Validates the keys and returns them distinct and in canonical order.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> is null.</exception>
    /// <exception cref="ArgumentException">No key, a default key, or more than <see cref="MaxKeys"/> distinct keys.</exception>
    public static LockKey[] Canonical(IReadOnlyList<LockKey> keys, string paramName)
    {
        ArgumentNullException.ThrowIfNull(keys, paramName);
        if (keys.Count == 0)
        {
            throw new ArgumentException("At least one lock key is required.", paramName);
        }

        if (keys.Count > MaxKeys * 4)
        {
            throw TooMany(keys.Count, paramName);
        }

        var sorted = new LockKey[keys.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            if (keys[i].IsDefault)
            {
                throw new ArgumentException($"Lock key {i} is default(LockKey); create it with new LockKey(resource, id).", paramName);
            }

            sorted[i] = keys[i];
        }

        Array.Sort(sorted, Order);
        var distinct = 1;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] != sorted[distinct - 1])
            {
                sorted[distinct++] = sorted[i];
            }
        }

        if (distinct > MaxKeys)
        {
            throw TooMany(distinct, paramName);
        }

        return distinct == sorted.Length ? sorted : sorted[..distinct];
    }

    private static ArgumentException TooMany(int count, string paramName)
        => new($"{count} lock keys were given; one execution locks at most {MaxKeys} distinct keys.", paramName);
}
