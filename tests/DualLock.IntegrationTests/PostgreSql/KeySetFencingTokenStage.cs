namespace DualLock.IntegrationTests.PostgreSql;

/// <summary>
/// An outer lock over a key set that issues each key the token the test chose, through
/// <see cref="LockStageHandle.FencingTokens"/> as a real set-locking stage does. (A single
/// <see cref="LockStageHandle.FencingToken"/> applies to a one-key execution only, so
/// a fenced set behind <see cref="MySql.FencingTokenStage"/> fails before it runs: see MySqlKeySetFencingTests.)
/// </summary>
public sealed class KeySetFencingTokenStage(Func<LockKey, long> tokenOf) : LockStage("fake-outer-set-lock")
{
    protected internal override LockStageTraits Traits => LockStageTraits.Excludes | LockStageTraits.IssuesFencingToken;

    public override ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        var tokens = new List<long?>(context.Keys.Count);
        foreach (var key in context.Keys)
        {
            tokens.Add(tokenOf(key));
        }

        return ValueTask.FromResult<LockStageHandle?>(new Handle(tokens));
    }

    private sealed class Handle(IReadOnlyList<long?> tokens) : LockStageHandle
    {
        public override IReadOnlyList<long?>? FencingTokens => tokens;

        public override ValueTask ReleaseAsync(bool workSucceeded) => ValueTask.CompletedTask;
    }
}
