namespace DualLock;

public sealed partial class LockPipeline
{
    /// <summary>
    /// The index of the first stage that enforces fencing tokens (a fenced transaction), or -1. Before it starts,
    /// every key of the execution must carry a token (<see cref="RequireEveryKeyFenced"/>).
    /// </summary>
    private readonly int _enforcesFencingAt;

    private static int EnforcesFencingStart(LockStage[] stages)
    {
        for (var i = 0; i < stages.Length; i++)
        {
            if ((stages[i].Traits & LockStageTraits.EnforcesFencingToken) != 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Fails closed before the enforcing stage at <paramref name="index"/> starts when a key has no fencing token
    /// although a token-issuing stage outside it holds its lock. The enforcing stage fences only the keys that carry
    /// a token, so a key without one (a custom stage reporting a single <see cref="LockStageHandle.FencingToken"/> for
    /// a key set, which applies to no key of it) would let the work run unfenced with no error.
    /// </summary>
    /// <remarks>
    /// The one exception is the documented fallback: every issuer outside was skipped because its service was
    /// unavailable (<see cref="LockPipelineBuilder.ContinueIfUnavailable()"/>); then no key has a token and the lock
    /// inside the fallback (the row lock) is what excludes.
    /// </remarks>
    /// <exception cref="InvalidOperationException">A key has no token and an issuer outside was not skipped.</exception>
    private void RequireEveryKeyFenced(LockContext context, HeldStage[] held, int index)
    {
        List<LockKey>? unfenced = null;
        foreach (var key in context.Keys)
        {
            if (context.GetFencingToken(key) is null)
            {
                (unfenced ??= []).Add(key);
            }
        }

        if (unfenced is null)
        {
            return;
        }

        List<string>? issuers = null;
        for (var i = 0; i < index; i++)
        {
            if ((_stages[i].Traits & LockStageTraits.IssuesFencingToken) != 0 && !ContinueIfUnavailableStage.IsSkipped(held[i].Handle))
            {
                (issuers ??= []).Add(_stages[i].Name);
            }
        }

        if (issuers is null)
        {
            return;
        }

        // Resource types only, never ids (ids may be personal data), as in every LockException message.
        var resources = string.Join(", ", unfenced.Select(k => $"'{k.Resource}'").Distinct());
        throw new InvalidOperationException(
            $"Stage '{_stages[index].Name}' of pipeline '{Name}' enforces fencing tokens, but {unfenced.Count} of the {context.Keys.Count} keys "
            + $"(resource {resources}) got no token from stage {string.Join(", ", issuers.Select(n => $"'{n}'"))}, so the work did not run: it would "
            + "have run unfenced. A stage that locks a key set reports one token per key through LockStageHandle.FencingTokens; "
            + "a single LockStageHandle.FencingToken applies to a one-key execution only.");
    }
}
