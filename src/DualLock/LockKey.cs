using System.Globalization;

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
        : this(resource, id, scope, validateId: true)
    {
    }

    /// <summary>Creates a key for a numeric id, for example a user id from a <c>BIGINT</c> column.</summary>
    /// <param name="resource">The resource type, for example <c>user-point</c>. Must not contain <c>:</c>.</param>
    /// <param name="id">The id; its invariant decimal text is the key's <see cref="Id"/>, so <c>42L</c> and <c>"42"</c> make equal keys.</param>
    /// <param name="scope">The operation scope, or <see langword="null"/> for all operations. Must not contain <c>:</c>.</param>
    /// <exception cref="ArgumentException">The resource or scope is empty, too long or contains a forbidden character.</exception>
    /// <remarks>Allocates the id's text once, as the caller's own <c>id.ToString()</c> would.</remarks>
    public LockKey(string resource, long id, string? scope = null)
        : this(resource, id.ToString(CultureInfo.InvariantCulture), scope, validateId: false)
    {
    }

    /// <summary>Creates a key for a 32-bit numeric id.</summary>
    /// <param name="resource">The resource type, for example <c>user-point</c>. Must not contain <c>:</c>.</param>
    /// <param name="id">The id; its invariant decimal text is the key's <see cref="Id"/> (equal to the same value as a <see cref="long"/> or a string).</param>
    /// <param name="scope">The operation scope, or <see langword="null"/> for all operations. Must not contain <c>:</c>.</param>
    /// <exception cref="ArgumentException">The resource or scope is empty, too long or contains a forbidden character.</exception>
    public LockKey(string resource, int id, string? scope = null)
        : this(resource, id.ToString(CultureInfo.InvariantCulture), scope, validateId: false)
    {
    }

    /// <summary>Creates a key for a <see cref="Guid"/> id.</summary>
    /// <param name="resource">The resource type, for example <c>order</c>. Must not contain <c>:</c>.</param>
    /// <param name="id">The id; its lower-case <c>D</c> text (<c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>) is the key's <see cref="Id"/>.</param>
    /// <param name="scope">The operation scope, or <see langword="null"/> for all operations. Must not contain <c>:</c>.</param>
    /// <exception cref="ArgumentException">The resource or scope is empty, too long or contains a forbidden character.</exception>
    public LockKey(string resource, Guid id, string? scope = null)
        : this(resource, id.ToString("D", CultureInfo.InvariantCulture), scope, validateId: false)
    {
    }

    /// <summary>The one constructor that sets the parts; a formatted number or Guid needs no character check.</summary>
    private LockKey(string resource, string id, string? scope, bool validateId)
    {
        ValidatePart(resource, nameof(resource), MaxPartLength);
        if (validateId)
        {
            ValidatePart(id, nameof(id), MaxIdLength);
        }

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
