namespace DualLock;

/// <summary>
/// The state of one key inside a <see cref="KeyedRegistry{TEntry}"/>, alive while it has users: the callers
/// between <see cref="KeyedRegistry{TEntry}.Enter(string, int)"/> and <see cref="KeyedRegistry{TEntry}.Exit"/>.
/// </summary>
/// <remarks>
/// The count has its own lock, so an entry's other state (a queue, a turn) keeps its own. Zero users is final:
/// an entry that reached it is being removed and is never joined again.
/// </remarks>
internal abstract class KeyedEntry
{
    private readonly object _count = new();
    private int _users = 1; // its creator

    protected KeyedEntry(string key) => Key = key;

    public string Key { get; }

    /// <summary>Gets the number of callers between enter and exit.</summary>
    public int Users
    {
        get
        {
            lock (_count)
            {
                return _users;
            }
        }
    }

    /// <summary>Joins the entry's users.</summary>
    /// <returns><see langword="true"/> when joined; <see langword="false"/> when it already has <paramref name="maxUsers"/>; <see langword="null"/> when it is being removed.</returns>
    internal bool? TryJoin(int maxUsers)
    {
        lock (_count)
        {
            if (_users == 0)
            {
                return null;
            }

            if (_users >= maxUsers)
            {
                return false;
            }

            _users++;
            return true;
        }
    }

    /// <summary>Leaves the entry's users; <see langword="true"/> for the last one, who removes the entry.</summary>
    /// <exception cref="InvalidOperationException">More exits than enters.</exception>
    internal bool Leave()
    {
        lock (_count)
        {
            if (_users <= 0)
            {
                throw new InvalidOperationException($"More exits than enters for a key ({_users} users).");
            }

            return --_users == 0;
        }
    }
}
