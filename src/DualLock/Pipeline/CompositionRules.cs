namespace DualLock;

/// <summary>
/// The checks <see cref="LockPipelineBuilder.Build"/> makes on the order of the stages, from the
/// traits they declare. Each rule names a way a pipeline would run the work without the protection
/// its stages suggest.
/// </summary>
internal static class CompositionRules
{
    public static void Check(string pipeline, LockStage[] stages, bool requireFencedTransactions = false)
    {
        for (var i = 0; i < stages.Length; i++)
        {
            var stage = stages[i];
            var traits = stage.Traits;
            var transaction = LastBefore(stages, i, LockStageTraits.OpensTransaction);

            if (traits.HasFlag(LockStageTraits.HeldByTransaction) && transaction is null)
            {
                throw Refused(pipeline, stage, "locks inside a transaction, but no stage added before it opens one: it would fail at every execution. Add a transaction stage (AddMySqlTransaction) before it.");
            }

            // A lock of its own (in-process, Redis, named lock) inside a transaction is released before the
            // commit: the next holder reads data the previous one has not committed yet, and a fencing
            // token issued inside the transaction stage never reaches its check.
            if (traits.HasFlag(LockStageTraits.Excludes) && !traits.HasFlag(LockStageTraits.HeldByTransaction) && transaction is not null)
            {
                throw Refused(pipeline, stage, $"is inside the transaction of stage '{transaction.Name}': it would be released before that transaction commits, so the next holder could read data not yet committed (and a fencing token it issues would not be enforced). Add it before the transaction stage.");
            }

        }

        // Checked after placement, so a token issuer added inside the transaction is reported as misplaced above.
        for (var i = 0; i < stages.Length; i++)
        {
            var stage = stages[i];
            if (stage.Traits.HasFlag(LockStageTraits.EnforcesFencingToken) && LastBefore(stages, i, LockStageTraits.IssuesFencingToken) is null)
            {
                throw Refused(pipeline, stage, "enforces fencing tokens, but no stage added before it issues one, so nothing would be fenced. Add a Redis lock before it, or turn EnforceFencing off.");
            }

            if (requireFencedTransactions
                && stage.Traits.HasFlag(LockStageTraits.OpensTransaction)
                && !stage.Traits.HasFlag(LockStageTraits.EnforcesFencingToken)
                && LastBefore(stages, i, LockStageTraits.IssuesFencingToken) is { } issuer)
            {
                throw Refused(pipeline, stage, $"opens a transaction inside the fencing-token lock '{issuer.Name}' without enforcing its token: a holder paused past its lease would commit over its successor. Turn EnforceFencing on for the transaction.");
            }

            if (stage is ContinueIfUnavailableStage && !HasRequiredLockAfter(stages, i))
            {
                var inside = i + 1 < stages.Length ? string.Join(", ", stages[(i + 1)..].Select(s => s.Name)) : "nothing";
                throw Refused(pipeline, stage, $"continues when its lock service is unavailable, but no stage inside it locks the key (inside it: {inside}): during an outage the work would run unlocked. Add a lock inside it (for example a row lock in the transaction), or remove the fallback.");
            }
        }
    }

    private static LockStage? LastBefore(LockStage[] stages, int index, LockStageTraits trait)
    {
        for (var j = index - 1; j >= 0; j--)
        {
            if (stages[j].Traits.HasFlag(trait))
            {
                return stages[j];
            }
        }

        return null;
    }

    /// <summary>Whether a stage inside <paramref name="index"/> locks the key and is not itself optional.</summary>
    private static bool HasRequiredLockAfter(LockStage[] stages, int index)
    {
        for (var j = index + 1; j < stages.Length; j++)
        {
            if (stages[j] is not ContinueIfUnavailableStage && stages[j].Traits.HasFlag(LockStageTraits.Excludes))
            {
                return true;
            }
        }

        return false;
    }

    private static InvalidOperationException Refused(string pipeline, LockStage stage, string why)
        => new($"Stage '{stage.Name}' of pipeline '{pipeline}' {why}");
}
