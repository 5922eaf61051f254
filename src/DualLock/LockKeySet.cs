using System.Collections;
using System.Runtime.CompilerServices;

namespace DualLock;

/// <summary>
/// The keys one execution locks, made canonical: distinct and sorted by resource, id and scope (ordinal), so that
/// every caller, in every process, acquires a set in the same order and two executions over overlapping sets cannot
/// each hold a key the other waits for. A single key is a set of one.
/// </summary>
/// <remarks>
/// Converts implicitly from a <see cref="LockKey"/> and from a <see cref="LockKey"/> array, and can be written as a
/// collection expression (<c>[from, to]</c>), so every <c>ExecuteAsync</c> overload takes one key or several.
/// A set of one key allocates nothing. <see langword="default"/> is the empty set, which no execution accepts.
/// </remarks>
[CollectionBuilder(typeof(LockKeySet), nameof(Create))]
public readonly struct LockKeySet : IReadOnlyList<LockKey>, IEquatable<LockKeySet>
{
    /// <summary>The most distinct keys one execution may lock: the set is held for the whole work, so it is bounded.</summary>
    public const int MaxKeys = 64;

    private static readonly IComparer<LockKey> Order = Comparer<LockKey>.Create(static (a, b) =>
    {
        var byResource = string.CompareOrdinal(a.Resource, b.Resource);
        if (byResource != 0)
        {
            return byResource;
        }

        var byId = string.CompareOrdinal(a.Id, b.Id);
        return byId != 0 ? byId : string.CompareOrdinal(a.Scope, b.Scope);
    });

    // One key: _first, no array. Several: _many, canonical, and _first is its first element.
    private readonly LockKey _first;
    private readonly LockKey[]? _many;

    /// <summary>Creates the set of one key.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> is <see langword="default"/>.</exception>
    public LockKeySet(LockKey key)
    {
        if (key.IsDefault)
        {
            throw new ArgumentException("The lock key is default(LockKey); create it with new LockKey(resource, id).", nameof(key));
        }

        _first = key;
    }

    /// <summary>Creates the canonical set of <paramref name="keys"/>: duplicates are kept once, order does not matter.</summary>
    /// <param name="keys">The keys: at least one, none of them <see langword="default"/>, at most <see cref="MaxKeys"/> distinct ones.</param>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">No key, a <see langword="default"/> key, or more than <see cref="MaxKeys"/> distinct keys.</exception>
    public LockKeySet(IEnumerable<LockKey> keys)
        : this(Copy(keys), nameof(keys))
    {
    }

    private LockKeySet(LockKey[] owned, string paramName)
    {
        var sorted = Canonical(owned, paramName);
        _first = sorted[0];
        _many = sorted.Length > 1 ? sorted : null;
    }

    /// <summary>Gets the number of distinct keys; 0 only for <see langword="default"/>.</summary>
    public int Count => _many?.Length ?? (_first.IsDefault ? 0 : 1);

    /// <summary>Gets a value indicating whether this is the empty <see langword="default"/> set, which no execution accepts.</summary>
    public bool IsDefault => _first.IsDefault;

    /// <summary>Gets the first key in canonical order: the only one of a set of one.</summary>
    /// <exception cref="InvalidOperationException">The set is <see langword="default"/>.</exception>
    public LockKey First => _first.IsDefault ? throw new InvalidOperationException("The lock key set is default(LockKeySet): it holds no key.") : _first;

    /// <summary>Gets the key at <paramref name="index"/> in canonical order.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the set.</exception>
    public LockKey this[int index]
    {
        get
        {
            if (_many is not null)
            {
                return _many[index];
            }

            ArgumentOutOfRangeException.ThrowIfNotEqual(index, 0);
            return First;
        }
    }

    /// <summary>Makes the set of one key.</summary>
    /// <param name="key">The key.</param>
    /// <exception cref="ArgumentException"><paramref name="key"/> is <see langword="default"/>.</exception>
    public static implicit operator LockKeySet(LockKey key) => new(key);

    /// <summary>Makes the canonical set of <paramref name="keys"/>; the array is copied, not kept.</summary>
    /// <param name="keys">The keys.</param>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">No key, a <see langword="default"/> key, or more than <see cref="MaxKeys"/> distinct keys.</exception>
    public static implicit operator LockKeySet(LockKey[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return Create(keys);
    }

    /// <summary>Compares two sets by their keys.</summary>
    /// <param name="left">A set.</param>
    /// <param name="right">Another set.</param>
    /// <returns><see langword="true"/> when both hold the same keys.</returns>
    public static bool operator ==(LockKeySet left, LockKeySet right) => left.Equals(right);

    /// <summary>Compares two sets by their keys.</summary>
    /// <param name="left">A set.</param>
    /// <param name="right">Another set.</param>
    /// <returns><see langword="true"/> when the sets differ in a key.</returns>
    public static bool operator !=(LockKeySet left, LockKeySet right) => !left.Equals(right);

    /// <summary>Creates the canonical set of <paramref name="keys"/> (what a collection expression <c>[a, b]</c> calls).</summary>
    /// <param name="keys">The keys.</param>
    /// <returns>The set.</returns>
    /// <exception cref="ArgumentException">No key, a <see langword="default"/> key, or more than <see cref="MaxKeys"/> distinct keys.</exception>
    public static LockKeySet Create(ReadOnlySpan<LockKey> keys)
        => keys.Length == 1 ? new LockKeySet(keys[0]) : new LockKeySet(keys.ToArray(), nameof(keys));

    /// <summary>Gets the position of <paramref name="key"/> in the set, or -1 when it is not one of its keys.</summary>
    /// <param name="key">A key.</param>
    /// <returns>The index in canonical order, or -1.</returns>
    public int IndexOf(LockKey key)
        => _many is not null ? Array.BinarySearch(_many, key, Order) is var i and >= 0 ? i : -1 : !_first.IsDefault && _first == key ? 0 : -1;

    /// <summary>Gets an enumerator over the keys in canonical order that allocates nothing.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<LockKey> IEnumerable<LockKey>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public bool Equals(LockKeySet other)
    {
        if (Count != other.Count)
        {
            return false;
        }

        for (var i = 0; i < Count; i++)
        {
            if (this[i] != other[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LockKeySet other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var key in this)
        {
            hash.Add(key);
        }

        return hash.ToHashCode();
    }

    /// <summary>Gets the keys in canonical order, comma-separated.</summary>
    /// <returns>For example <c>account:1, account:2</c>.</returns>
    public override string ToString() => string.Join(", ", this);

    private static LockKey[] Copy(IEnumerable<LockKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return [.. keys];
    }

    /// <summary>Validates <paramref name="keys"/> (which this method owns) and returns them distinct and in canonical order.</summary>
    private static LockKey[] Canonical(LockKey[] keys, string paramName)
    {
        if (keys.Length == 0)
        {
            throw new ArgumentException("At least one lock key is required.", paramName);
        }

        if (keys.Length > MaxKeys * 4)
        {
            // Bounded before sorting: a caller cannot make the library sort an unbounded list only to refuse it.
            throw TooMany(keys.Length, paramName);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i].IsDefault)
            {
                throw new ArgumentException($"Lock key {i} is default(LockKey); create it with new LockKey(resource, id).", paramName);
            }
        }

        Array.Sort(keys, Order);
        var distinct = 1;
        for (var i = 1; i < keys.Length; i++)
        {
            if (keys[i] != keys[distinct - 1])
            {
                keys[distinct++] = keys[i];
            }
        }

        if (distinct > MaxKeys)
        {
            throw TooMany(distinct, paramName);
        }

        return distinct == keys.Length ? keys : keys[..distinct];
    }

    private static ArgumentException TooMany(int count, string paramName)
        => new($"{count} lock keys were given; one execution locks at most {MaxKeys} distinct keys.", paramName);

    /// <summary>Enumerates a <see cref="LockKeySet"/> in canonical order.</summary>
    public struct Enumerator : IEnumerator<LockKey>
    {
        private readonly LockKeySet _set;
        private int _index;

        internal Enumerator(LockKeySet set)
        {
            _set = set;
            _index = -1;
        }

        /// <inheritdoc />
        public readonly LockKey Current => _set[_index];

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc />
        public bool MoveNext() => ++_index < _set.Count;

        /// <inheritdoc />
        public void Reset() => _index = -1;

        /// <inheritdoc />
        public readonly void Dispose()
        {
        }
    }
}
