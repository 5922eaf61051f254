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

    internal LockContext(LockKey key, string pipelineName, TimeSpan waitTimeout)
    {
        Key = key;
        PipelineName = pipelineName;
        WaitTimeout = waitTimeout;
    }

    /// <summary>Gets the key being locked.</summary>
    public LockKey Key { get; }

    /// <summary>Gets the name of the pipeline running the work.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the wait timeout of this execution.</summary>
    public TimeSpan WaitTimeout { get; }

    /// <summary>Gets the fencing token issued by the innermost stage that issues one, or <see langword="null"/>.</summary>
    /// <value>
    /// Strictly increasing per key across holders. Pass it to the resource you write to so that a
    /// holder whose lease expired while it was paused is refused there.
    /// </value>
    public long? FencingToken { get; internal set; }

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
}
