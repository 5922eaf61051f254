namespace DualLock;

/// <summary>
/// Identifies what is locked: a resource type, the id of one resource and, optionally, an
/// operation scope (<c>user-point:42</c> locks every operation on user 42's points,
/// <c>user-point:42:charge</c> only charges).
/// </summary>
/// <remarks>
/// Parts are validated when the key is created so that a bad key fails at the caller, with the
/// offending part named, rather than deep inside a Redis script or a SQL statement.
/// </remarks>
public readonly record struct LockKey
{
    /// <summary>The longest accepted resource or scope, in characters.</summary>
    public const int MaxPartLength = 64;

    /// <summary>The longest accepted id, in characters.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Creates a key for every operation on one resource.</summary>
    /// <param name="resource">The resource type, for example <c>user-point</c>. Must not contain <c>:</c>.</param>
    /// <param name="id">The id of the resource, for example a user id. Must not contain <c>:</c>.</param>
    /// <exception cref="ArgumentException">A part is empty, too long or contains a forbidden character.</exception>
    public LockKey(string resource, string id)
        : this(resource, id, null)
    {
    }

    /// <summary>Creates a key for one operation scope on one resource.</summary>
    /// <param name="resource">The resource type, for example <c>user-point</c>. Must not contain <c>:</c>.</param>
    /// <param name="id">The id of the resource, for example a user id. Must not contain <c>:</c>.</param>
    /// <param name="scope">The operation scope, for example <c>charge</c>, or <see langword="null"/> for all operations. Must not contain <c>:</c>.</param>
    /// <exception cref="ArgumentException">A part is empty, too long or contains a forbidden character.</exception>
    public LockKey(string resource, string id, string? scope)
    {
        ValidatePart(resource, nameof(resource), MaxPartLength);
        ValidatePart(id, nameof(id), MaxIdLength);
        if (scope is not null)
        {
            ValidatePart(scope, nameof(scope), MaxPartLength);
        }

        Resource = resource;
        Id = id;
        Scope = scope;
    }

    /// <summary>Gets the resource type.</summary>
    public string Resource { get; }

    /// <summary>Gets the id of the locked resource.</summary>
    public string Id { get; }

    /// <summary>Gets the operation scope, or <see langword="null"/> when the key covers every operation.</summary>
    public string? Scope { get; }

    /// <summary>Returns <c>resource:id</c> or <c>resource:id:scope</c>; stages derive their lock names from it.</summary>
    /// <returns>The canonical text of the key.</returns>
    public override string ToString()
    {
        // A default(LockKey) was never validated; make that visible instead of returning "::".
        if (Resource is null)
        {
            return "(default LockKey)";
        }

        return Scope is null ? $"{Resource}:{Id}" : $"{Resource}:{Id}:{Scope}";
    }

    internal bool IsDefault => Resource is null;

    private static void ValidatePart(string? value, string name, int maxLength)
    {
        if (value is null)
        {
            throw new ArgumentNullException(name, $"Lock key {name} must not be null.");
        }

        if (value.Length == 0 || string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"Lock key {name} must not be empty or whitespace.", name);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException(
                $"Lock key {name} is {value.Length} characters long; the maximum is {maxLength}.", name);
        }

        foreach (var c in value)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                throw new ArgumentException(
                    $"Lock key {name} must not contain whitespace or control characters (found U+{(int)c:X4}).", name);
            }

            // ':' separates the parts of the canonical text, so allowing it would let two keys collide; braces would change the Redis Cluster hash slot.
            if (c == ':' || c == '{' || c == '}')
            {
                throw new ArgumentException(
                    $"Lock key {name} must not contain '{c}'.", name);
            }
        }
    }
}
