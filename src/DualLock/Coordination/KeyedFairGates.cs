using System.Collections.Concurrent;

namespace DualLock;

/// <summary>
/// One <see cref="FairGate"/> per key, alive only while someone holds or waits for the key: the
/// entry is removed when its last user leaves, so idle keys cost no memory.
/// </summary>
internal sealed class KeyedFairGates(int capacity)
{
    private readonly ConcurrentDictionary<string, FairGate> _gates = new(StringComparer.Ordinal);

    /// <summary>Gets the number of keys currently held or waited for.</summary>
    public int Count => _gates.Count;

    /// <summary>Gets the gate of a key in use, or <see langword="null"/> (for tests).</summary>
    public FairGate? Find(string key) => _gates.TryGetValue(key, out var gate) ? gate : null;

    /// <summary>Registers one more user of <paramref name="key"/>; returns <see langword="null"/> when it already has <paramref name="maxUsers"/>.</summary>
    public FairGate? Enter(string key, int maxUsers)
    {
        while (true)
        {
            if (_gates.TryGetValue(key, out var gate))
            {
                lock (gate)
                {
                    // Zero users means the gate is being removed: take a fresh one instead.
                    if (gate.Users == 0)
                    {
                        continue;
                    }

                    if (gate.Users >= maxUsers)
                    {
                        return null;
                    }

                    gate.Users++;
                    return gate;
                }
            }

            var created = new FairGate(key, capacity);
            if (_gates.TryAdd(key, created))
            {
                return created;
            }
        }
    }

    /// <summary>Unregisters one user; the last one out removes the gate and gets <see langword="true"/>.</summary>
    public bool Exit(FairGate gate)
    {
        lock (gate)
        {
            if (--gate.Users == 0)
            {
                _gates.TryRemove(new KeyValuePair<string, FairGate>(gate.Key, gate));
                return true;
            }

            return false;
        }
    }
}
