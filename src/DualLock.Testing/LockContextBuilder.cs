namespace DualLock.Testing;

/// <summary>
/// Builds a <see cref="LockContext"/> for a unit test of work written for a pipeline (a method taking the context), with
/// the keys, fencing tokens, features and lease state a real execution would hand it.
/// </summary>
/// <remarks>
/// In a real execution the pipeline creates the context and its stages provide the features; a feature set here is
/// the test's own (the test opens, commits and disposes what it supplies).
/// </remarks>
public sealed class LockContextBuilder
{
    private readonly LockKeySet _keys;
    private readonly long?[] _tokens;
    private readonly List<Action<LockContext>> _features = [];
    private string _pipelineName = "test";
    private TimeSpan _waitTimeout = LockPipelineOptions.DefaultWaitTimeout;
    private int _attempt = 1;
    private bool _rerunsOnConflict;
    private string? _lostStage;

    /// <summary>Initializes a new instance of the <see cref="LockContextBuilder"/> class.</summary>
    /// <param name="keys">The keys of the execution: one <see cref="LockKey"/>, or several (<c>[from, to]</c>).</param>
    /// <exception cref="ArgumentException"><paramref name="keys"/> is <see langword="default"/>.</exception>
    public LockContextBuilder(LockKeySet keys)
    {
        if (keys.IsDefault)
        {
            throw new ArgumentException("The lock key set is default(LockKeySet); pass a LockKey or create the set from keys.", nameof(keys));
        }

        _keys = keys;
        _tokens = new long?[keys.Count];
    }

    /// <summary>Sets <see cref="LockContext.PipelineName"/>.</summary>
    /// <param name="name">The pipeline name. Default: <c>test</c>.</param>
    /// <returns>This builder.</returns>
    public LockContextBuilder WithPipelineName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _pipelineName = name;
        return this;
    }

    /// <summary>Sets <see cref="LockContext.WaitTimeout"/>.</summary>
    /// <param name="waitTimeout">Between zero and <see cref="LockPipeline.MaxWaitTimeout"/>. Default: 2 seconds.</param>
    /// <returns>This builder.</returns>
    public LockContextBuilder WithWaitTimeout(TimeSpan waitTimeout)
    {
        LockPipeline.ValidateWaitTimeout(waitTimeout, nameof(waitTimeout));
        _waitTimeout = waitTimeout;
        return this;
    }

    /// <summary>Sets the fencing token of the only key (<see cref="LockContext.FencingToken"/>).</summary>
    /// <param name="token">The token.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">The context has more than one key; name the key.</exception>
    public LockContextBuilder WithFencingToken(long token)
    {
        if (_keys.Count != 1)
        {
            throw new InvalidOperationException($"The context locks {_keys.Count} keys, each with its own token: use WithFencingToken(key, token).");
        }

        _tokens[0] = token;
        return this;
    }

    /// <summary>Sets the fencing token of one of the keys (<see cref="LockContext.GetFencingToken"/>).</summary>
    /// <param name="key">One of the context's keys.</param>
    /// <param name="token">The token.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not one of the keys.</exception>
    public LockContextBuilder WithFencingToken(LockKey key, long token)
    {
        var index = _keys.IndexOf(key);
        if (index < 0)
        {
            throw new ArgumentException($"The key of resource '{key.Resource}' is not one of this context's keys.", nameof(key));
        }

        _tokens[index] = token;
        return this;
    }

    /// <summary>Provides a feature, as a stage would (<see cref="LockContext.GetFeature{T}"/>).</summary>
    /// <typeparam name="T">The type the work asks for, for example <c>MySqlTransactionFeature</c>.</typeparam>
    /// <param name="feature">The feature.</param>
    /// <returns>This builder.</returns>
    public LockContextBuilder WithFeature<T>(T feature)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(feature);
        _features.Add(context => context.SetFeature(feature));
        return this;
    }

    /// <summary>Sets <see cref="LockContext.Attempt"/> and <see cref="LockContext.RerunsOnConflict"/>, as an optimistic pipeline's re-run has them.</summary>
    /// <param name="attempt">The attempt, starting at 1.</param>
    /// <param name="rerunsOnConflict">Whether the pipeline re-runs the work on a conflict. Default: <see langword="true"/>.</param>
    /// <returns>This builder.</returns>
    public LockContextBuilder WithAttempt(int attempt, bool rerunsOnConflict = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        _attempt = attempt;
        _rerunsOnConflict = rerunsOnConflict;
        return this;
    }

    /// <summary>Builds the context with its lease already lost: <see cref="LockContext.LeaseLost"/> cancelled and <see cref="LockContext.LeaseLostStage"/> set.</summary>
    /// <param name="stage">The stage whose lock was lost. Default: <c>redis</c>.</param>
    /// <returns>This builder.</returns>
    public LockContextBuilder WithLeaseLost(string stage = "redis")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stage);
        _lostStage = stage;
        return this;
    }

    /// <summary>Creates the context; each call creates a new one.</summary>
    /// <returns>The context.</returns>
    public LockContext Build()
    {
        var context = new LockContext(_keys, _pipelineName, _waitTimeout, TimeProvider.System, _attempt, _rerunsOnConflict);
        for (var i = 0; i < _tokens.Length; i++)
        {
            if (_tokens[i] is { } token)
            {
                context.SetFencingToken(i, token);
            }
        }

        foreach (var feature in _features)
        {
            feature(context);
        }

        if (_lostStage is not null)
        {
            // A token already cancelled runs the registration at once: the context records the loss as a stage's would.
            using var lost = new CancellationTokenSource();
            lost.Cancel();
            context.WatchLease(_lostStage, static (_, _) => { }, lost.Token).Dispose();
        }

        return context;
    }
}
