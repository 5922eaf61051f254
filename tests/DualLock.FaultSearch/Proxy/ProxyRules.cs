namespace DualLock.FaultSearch.Proxy;

/// <summary>What the proxy does to one command.</summary>
internal enum ProxyAction
{
    /// <summary>Forward it and its reply.</summary>
    Pass,

    /// <summary>Do not forward it; answer the rule's error (the command did not run, as with a real refusal).</summary>
    Error,

    /// <summary>Forward it; hold its reply (and so every later reply on the connection) for the rule's delay.</summary>
    Delay,

    /// <summary>Forward it (it runs); lose its reply, stall the connection for the rule's delay, then reset it.</summary>
    Drop,

    /// <summary>Reset the connection before forwarding it (it does not run).</summary>
    Reset,
}

/// <summary>A fault on the commands of one role, active until a deadline.</summary>
/// <param name="Role">A role from <see cref="CommandRoles"/> or a command name in lower case; "*" for every command.</param>
/// <param name="Action">What to do to a matching command.</param>
/// <param name="Error">The error line for <see cref="ProxyAction.Error"/>, e.g. "READONLY You can't write against a read only replica."</param>
/// <param name="Delay">The delay of <see cref="ProxyAction.Delay"/> and the stall of <see cref="ProxyAction.Drop"/>.</param>
/// <param name="Probability">The share of matching commands it applies to.</param>
/// <param name="Until">When it ends (Environment.TickCount64).</param>
internal sealed record ProxyRule(string Role, ProxyAction Action, string Error, TimeSpan Delay, double Probability, long Until);

/// <summary>The rules in force, shared by every proxied connection; the fault runner adds them, they expire by themselves.</summary>
internal sealed class ProxyRules
{
    private readonly Lock _gate = new();
    private readonly List<ProxyRule> _rules = [];
    private readonly Random _random;
    private long _lastHeldReplyDue;

    public ProxyRules(int seed) => _random = new Random(seed);

    /// <summary>
    /// Gets when the last reply a delay or drop rule held back is due (<see cref="Environment.TickCount64"/>): until
    /// then a command that already ran in Redis (an acquire granted before a key fault) may still be on its way back.
    /// </summary>
    public long LastHeldReplyDue => Interlocked.Read(ref _lastHeldReplyDue);

    /// <summary>Raised to reset every open connection now.</summary>
    public event Action? ResetAll;

    public void Add(ProxyRule rule)
    {
        lock (_gate)
        {
            _rules.Add(rule);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    public void ResetConnections() => ResetAll?.Invoke();

    /// <summary>The rule that applies to a command of this role now, or null to pass it.</summary>
    public ProxyRule? Match(string role)
    {
        var now = Environment.TickCount64;
        lock (_gate)
        {
            _rules.RemoveAll(r => r.Until <= now);
            foreach (var rule in _rules)
            {
                if ((rule.Role == "*" || rule.Role == role) && _random.NextDouble() < rule.Probability)
                {
                    if (rule.Action is ProxyAction.Delay or ProxyAction.Drop)
                    {
                        _lastHeldReplyDue = Math.Max(_lastHeldReplyDue, now + (long)rule.Delay.TotalMilliseconds);
                    }

                    return rule;
                }
            }
        }

        return null;
    }
}
