using System.Collections.Concurrent;

namespace DualLock.Redis;

/// <summary>The live <see cref="KeyTurn"/> per key; a key nobody uses is forgotten.</summary>
internal sealed class KeyTurns
{
    private readonly ConcurrentDictionary<string, KeyTurn> _turns = new(StringComparer.Ordinal);

    public int Count => _turns.Count;

    public KeyTurn? Find(string key) => _turns.TryGetValue(key, out var turn) ? turn : null;

    /// <summary>Registers a caller of <paramref name="key"/>; <see langword="null"/> when it already has <paramref name="maxUsers"/> (holder and waiters).</summary>
    public KeyTurn? Enter<TState>(string key, Func<string, TState, KeyTurn> create, TState state, int maxUsers)
    {
        var spin = default(SpinWait);
        while (true)
        {
            if (_turns.TryGetValue(key, out var turn))
            {
                switch (turn.TryJoin(maxUsers))
                {
                    case true:
                        return turn;
                    case false:
                        return null;
                    default:
                        spin.SpinOnce(); // its last user is removing it
                        continue;
                }
            }

            var created = create(key, state);
            if (_turns.TryAdd(key, created))
            {
                return created;
            }
        }
    }

    /// <summary>Unregisters a caller; true when it was the last, and the key is forgotten.</summary>
    public bool Exit(KeyTurn turn)
    {
        if (!turn.Leave())
        {
            return false;
        }

        _turns.TryRemove(new KeyValuePair<string, KeyTurn>(turn.Key, turn));
        return true;
    }
}
