namespace DualLock;

/// <summary>
/// What the work protected by a <see cref="LockPipeline"/> receives: the keys, their fencing tokens,
/// the lease-lost signal and the features stages hand over (such as an open database transaction).
/// </summary>
/// <remarks>One context per execution; it is not thread-safe and must not outlive the work.</remarks>
public sealed class LockContext
{
    private List<KeyValuePair<Type, object>>? _features;
    private CancellationTokenSource? _leaseLost;
    private string? _lostStage;

    // The fencing token of each key in Keys order; a set of one keeps its token in _token and allocates no array.
    private readonly long?[]? _tokens;
    private long? _token;

    /// <summary>Creates the context of one execution; <paramref name="keys"/> is canonical (distinct, ordered).</summary>
    internal LockContext(LockKeySet keys, string pipelineName, TimeSpan waitTimeout, TimeProvider timeProvider, int attempt = 1, bool rerunsOnConflict = false)
    {
        Keys = keys;
        Attempt = attempt;
        RerunsOnConflict = rerunsOnConflict;
        PipelineName = pipelineName;
        WaitTimeout = waitTimeout;
        TimeProvider = timeProvider;
        _tokens = keys.Count > 1 ? new long?[keys.Count] : null;
    }

    /// <summary>Gets every key of this execution, distinct and in the canonical order in which every stage acquires them.</summary>
    /// <value>A set of one key when the work was started with one.</value>
    public LockKeySet Keys { get; }

    /// <summary>Gets which run of the work this is, starting at 1; above 1 only when the pipeline re-runs the work after a conflict.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Gets a value indicating whether the pipeline re-runs the work after an <see cref="OptimisticConflictException"/>
    /// (it has <see cref="LockPipelineBuilder.ConflictRetry"/>): the work should then write with a compare-and-set on
    /// the version it read, and throw that exception when the compare-and-set changes nothing.
    /// </summary>
    public bool RerunsOnConflict { get; }

    /// <summary>Gets the name of the pipeline running the work.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the wait timeout of this execution.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets the fencing token of the only key, issued by the innermost stage that issues one, or <see langword="null"/>.</summary>
    /// <value>
    /// Strictly increasing per key across holders. Pass it to the resource you write to so that a
    /// holder whose lease expired while it was paused is refused there.
    /// </value>
    /// <remarks>A single-key convenience for <see cref="GetFencingToken"/>: a key set has one token per key.</remarks>
    /// <exception cref="InvalidOperationException">The execution locks more than one key; use <see cref="GetFencingToken"/>.</exception>
    public long? FencingToken => _tokens is null
        ? _token
        : throw new InvalidOperationException($"Pipeline '{PipelineName}' locked {Keys.Count} keys for this work, each with its own fencing token: use GetFencingToken(key).");

    /// <summary>Gets the time source of the pipeline running the work.</summary>
    internal TimeProvider TimeProvider { get; }

    /// <summary>Gets or sets the pipeline's logger, for what stages' shared helpers must report but not throw.</summary>
    internal Microsoft.Extensions.Logging.ILogger Logger { get; set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Gets the fencing token issued for one of this execution's keys, or <see langword="null"/> when no stage issues one.</summary>
    /// <param name="key">One of <see cref="Keys"/>.</param>
    /// <returns>The innermost issuing stage's token for that key.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not locked by this execution.</exception>
    public long? GetFencingToken(LockKey key)
    {
        var index = Keys.IndexOf(key);
        if (index < 0)
        {
            throw new ArgumentException($"The key of resource '{key.Resource}' is not one of the keys pipeline '{PipelineName}' locked for this work.", nameof(key));
        }

        return _tokens is null ? _token : _tokens[index];
    }

    /// <summary>
    /// Gets a token that fires when any stage's lock is lost while the work runs. The token the
    /// work receives already includes it.
    /// </summary>
    public CancellationToken LeaseLost => _leaseLost?.Token ?? CancellationToken.None;

    /// <summary>Gets the name of the stage whose lock was lost first, or <see langword="null"/>.</summary>
    public string? LeaseLostStage => Volatile.Read(ref _lostStage);

    /// <summary>Gets the feature of type <typeparamref name="T"/> a stage provided, or <see langword="null"/>.</summary>
    /// <typeparam name="T">The feature type, for example the MySQL transaction feature.</typeparam>
    /// <returns>The feature, or <see langword="null"/> when no stage provided it.</returns>
    public T? GetFeature<T>()
        where T : class
    {
        if (_features is not null)
        {
            foreach (var pair in _features)
            {
                if (pair.Key == typeof(T))
                {
                    return (T)pair.Value;
                }
            }
        }

        return null;
    }

    /// <summary>Gets the feature of type <typeparamref name="T"/>, failing clearly when no stage provided it.</summary>
    /// <typeparam name="T">The feature type.</typeparam>
    /// <returns>The feature.</returns>
    /// <exception cref="InvalidOperationException">No stage of the pipeline provided the feature.</exception>
    public T GetRequiredFeature<T>()
        where T : class
        => GetFeature<T>() ?? throw new InvalidOperationException(
            $"No stage of pipeline '{PipelineName}' provided the feature {typeof(T).Name}; add the stage that provides it (for example a transaction stage) to the pipeline.");

    /// <summary>Provides a feature to inner stages and to the work; replaces a feature of the same type.</summary>
    /// <typeparam name="T">The feature type the consumers ask for.</typeparam>
    /// <param name="feature">The feature.</param>
    public void SetFeature<T>(T feature)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(feature);
        _features ??= new List<KeyValuePair<Type, object>>(2);
        for (var i = 0; i < _features.Count; i++)
        {
            if (_features[i].Key == typeof(T))
            {
                _features[i] = new KeyValuePair<Type, object>(typeof(T), feature);
                return;
            }
        }

        _features.Add(new KeyValuePair<Type, object>(typeof(T), feature));
    }

    /// <summary>Links a stage's lease-lost token into <see cref="LeaseLost"/>; returns the registration to dispose.</summary>
    internal CancellationTokenRegistration WatchLease(string stageName, Action<LockContext, string> onLost, CancellationToken stageLeaseLost)
    {
        _leaseLost ??= new CancellationTokenSource();
        return stageLeaseLost.Register(
            static state =>
            {
                var (context, stage, callback) = ((LockContext, string, Action<LockContext, string>))state!;
                if (Interlocked.CompareExchange(ref context._lostStage, stage, null) is null)
                {
                    callback(context, stage);
                }

                context._leaseLost!.CancelQuietly(); // the stage's watchdog must not be thrown at by the work's callbacks
            },
            (this, stageName, onLost));
    }

    internal void DisposeLeaseSource() => _leaseLost?.Dispose();

    /// <summary>Records the tokens a stage issued, one per key in <see cref="Keys"/> order; a key without one keeps the outer stage's.</summary>
    internal void SetFencingTokens(IReadOnlyList<long?> tokens)
    {
        if (tokens.Count != Keys.Count)
        {
            throw new InvalidOperationException($"A stage of pipeline '{PipelineName}' reported {tokens.Count} fencing tokens for {Keys.Count} keys.");
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] is { } token)
            {
                SetFencingToken(i, token);
            }
        }
    }

    /// <summary>Records the token a stage issued for the key at <paramref name="index"/> of <see cref="Keys"/>.</summary>
    internal void SetFencingToken(int index, long token)
    {
        if (_tokens is null)
        {
            _token = token;
        }
        else
        {
            _tokens[index] = token;
        }
    }
}
