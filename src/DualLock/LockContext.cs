namespace DualLock;

/// <summary>
/// What the work protected by a <see cref="LockPipeline"/> receives: the key, the fencing token,
/// the lease-lost signal and the features stages hand over (such as an open database transaction).
/// </summary>
/// <remarks>One context per execution; it is not thread-safe and must not outlive the work.</remarks>
public sealed class LockContext
{
    private List<KeyValuePair<Type, object>>? _features;
    private CancellationTokenSource? _leaseLost;
    private string? _lostStage;

    // A multi-key execution only: every key in canonical order, the fencing token of each, and which one Key is.
    private readonly LockKey[]? _keys;
    private readonly long?[]? _tokens;
    private int _current;
    private long? _token;

    internal LockContext(LockKey key, string pipelineName, TimeSpan waitTimeout, TimeProvider timeProvider)
    {
        Key = key;
        PipelineName = pipelineName;
        WaitTimeout = waitTimeout;
        TimeProvider = timeProvider;
    }

    /// <summary>Creates the context of a multi-key execution; <paramref name="keys"/> are distinct and in canonical order.</summary>
    internal LockContext(LockKey[] keys, string pipelineName, TimeSpan waitTimeout, TimeProvider timeProvider)
        : this(keys[0], pipelineName, waitTimeout, timeProvider)
    {
        _keys = keys;
        _tokens = new long?[keys.Length];
    }

    /// <summary>
    /// Gets the key being locked. In a multi-key execution: while a stage acquires key by key, the key it is
    /// acquiring; otherwise (and while the work runs) the first of <see cref="Keys"/>.
    /// </summary>
    public LockKey Key { get; private set; }

    /// <summary>Gets every key of this execution, distinct and in the canonical order in which every stage acquires them.</summary>
    /// <value>One key, <see cref="Key"/>, unless the work was started with several.</value>
    public IReadOnlyList<LockKey> Keys => _keys ?? [Key];

    /// <summary>Gets whether this execution locks more than one key.</summary>
    public bool IsMultiKey => _keys is not null;

    /// <summary>Gets the name of the pipeline running the work.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the wait timeout of this execution.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets the fencing token issued by the innermost stage that issues one, or <see langword="null"/>.</summary>
    /// <value>
    /// Strictly increasing per key across holders. Pass it to the resource you write to so that a
    /// holder whose lease expired while it was paused is refused there.
    /// </value>
    /// <remarks>In a multi-key execution, the token of <see cref="Key"/>; <see cref="GetFencingToken"/> gives each key's.</remarks>
    public long? FencingToken
    {
        get => _tokens is null ? _token : _tokens[_current];
        internal set
        {
            if (_tokens is null)
            {
                _token = value;
            }
            else
            {
                _tokens[_current] = value;
            }
        }
    }

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
        if (_keys is null)
        {
            return key == Key ? _token : throw NotOneOfTheKeys(key);
        }

        var index = Array.IndexOf(_keys, key);
        return index >= 0 ? _tokens![index] : throw NotOneOfTheKeys(key);
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

                context._leaseLost!.Cancel();
            },
            (this, stageName, onLost));
    }

    internal void DisposeLeaseSource() => _leaseLost?.Dispose();

    /// <summary>Makes <see cref="Key"/> (and <see cref="FencingToken"/>) the key at <paramref name="index"/> of <see cref="Keys"/>.</summary>
    internal void SelectKey(int index)
    {
        _current = index;
        Key = _keys![index];
    }

    /// <summary>Records the tokens a multi-key stage issued, one per key in <see cref="Keys"/> order.</summary>
    internal void SetFencingTokens(IReadOnlyList<long?> tokens)
    {
        if (tokens.Count != _tokens!.Length)
        {
            throw new InvalidOperationException($"A stage of pipeline '{PipelineName}' reported {tokens.Count} fencing tokens for {_tokens.Length} keys.");
        }

        for (var i = 0; i < _tokens.Length; i++)
        {
            if (tokens[i] is { } token)
            {
                _tokens[i] = token;
            }
        }
    }

    private ArgumentException NotOneOfTheKeys(LockKey key)
        => new($"The key of resource '{key.Resource}' is not one of the keys pipeline '{PipelineName}' locked for this work.", nameof(key));
}
