namespace DualLock.Testing;

/// <summary>
/// An <see cref="ILockStrategy"/> for unit tests of code that takes one: it runs the work at once (no lock is taken, so
/// it proves nothing about exclusion), records every call in <see cref="Calls"/>, and fails the calls it is told to
/// fail (<see cref="FailCall"/>, <see cref="FailKey"/>) the way a real pipeline reports each failure.
/// </summary>
/// <remarks>
/// Argument checks are the real ones: a <see langword="default"/> key set, a <see langword="null"/> work and a wait
/// outside 0 to <see cref="LockPipeline.MaxWaitTimeout"/> throw as a pipeline does. Thread-safe; calls may overlap.
/// </remarks>
public sealed class FakeLockStrategy : ILockStrategy
{
    private readonly object _sync = new();
    private readonly List<FakeLockCall> _calls = [];
    private readonly Dictionary<int, FakeLockFailure> _failCalls = [];
    private readonly Dictionary<LockKey, FakeLockFailure> _failKeys = [];
    private readonly Dictionary<LockKey, long> _lastTokens = [];
    private readonly List<Action<LockContext>> _configureContext = [];
    private long? _firstToken;

    /// <summary>Initializes a new instance of the <see cref="FakeLockStrategy"/> class.</summary>
    /// <param name="name">The strategy name, also the stage named in the exceptions it throws. Default: <c>fake</c>.</param>
    public FakeLockStrategy(string name = "fake")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets or sets the wait a call gets when it passes none.</summary>
    /// <value>Default: 2 seconds, as a pipeline's.</value>
    public TimeSpan WaitTimeout { get; set; } = LockPipelineOptions.DefaultWaitTimeout;

    /// <summary>Gets a snapshot of every call so far, in the order they started.</summary>
    public IReadOnlyList<FakeLockCall> Calls
    {
        get
        {
            lock (_sync)
            {
                return _calls.ToArray();
            }
        }
    }

    /// <summary>Fails call number <paramref name="callNumber"/> (1 is the first call made) with <paramref name="failure"/>.</summary>
    /// <param name="callNumber">The call to fail, starting at 1.</param>
    /// <param name="failure">How it fails.</param>
    /// <returns>This fake.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="callNumber"/> is below 1, or <paramref name="failure"/> is not defined.</exception>
    public FakeLockStrategy FailCall(int callNumber, FakeLockFailure failure)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callNumber, 1);
        CheckDefined(failure);
        lock (_sync)
        {
            _failCalls[callNumber] = failure;
        }

        return this;
    }

    /// <summary>Fails every call that locks <paramref name="key"/> with <paramref name="failure"/> (a failure chosen by call number wins).</summary>
    /// <param name="key">The key.</param>
    /// <param name="failure">How those calls fail.</param>
    /// <returns>This fake.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is <see langword="default"/>.</exception>
    public FakeLockStrategy FailKey(LockKey key, FakeLockFailure failure)
    {
        if (key.IsDefault)
        {
            throw new ArgumentException("The key is default(LockKey); pass a key created with a resource and an id.", nameof(key));
        }

        CheckDefined(failure);
        lock (_sync)
        {
            _failKeys[key] = failure;
        }

        return this;
    }

    /// <summary>
    /// Issues a fencing token per key to every later call, as a Redis lock does: the first holder of a key gets
    /// <paramref name="first"/>, each later holder of that key one more.
    /// </summary>
    /// <param name="first">The first token of each key. Default: 1.</param>
    /// <returns>This fake.</returns>
    public FakeLockStrategy IssueFencingTokens(long first = 1)
    {
        lock (_sync)
        {
            _firstToken = first;
        }

        return this;
    }

    /// <summary>
    /// Runs <paramref name="configure"/> on every call's context before the work, to provide what the stages of a real
    /// pipeline would (for example <c>context.SetFeature(new MySqlTransactionFeature(connection, transaction))</c>
    /// over a connection the test opened).
    /// </summary>
    /// <param name="configure">Sets features on the context.</param>
    /// <returns>This fake.</returns>
    public FakeLockStrategy ConfigureContext(Action<LockContext> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        lock (_sync)
        {
            _configureContext.Add(configure);
        }

        return this;
    }

    /// <inheritdoc />
    public ValueTask<LockAttempt<TResult>> ExecuteCoreAsync<TResult, TState>(
        LockKeySet keys,
        Func<LockContext, TState, CancellationToken, ValueTask<TResult>> work,
        TState state,
        TimeSpan? waitTimeout,
        bool throwOnTimeout,
        CancellationToken cancellationToken)
    {
        LockPipeline.ThrowIfInvalidCall(keys, work);
        var wait = waitTimeout ?? WaitTimeout;
        LockPipeline.ValidateWaitTimeout(wait, nameof(waitTimeout));
        var (call, context) = Start(keys, waitTimeout, wait, throwOnTimeout);
        return FakeLockRun.RunAsync(this, call, context, work, state, cancellationToken);
    }

    private (FakeLockCall Call, LockContext Context) Start(LockKeySet keys, TimeSpan? requested, TimeSpan wait, bool throwOnTimeout)
    {
        Action<LockContext>[] configure;
        FakeLockCall call;
        lock (_sync)
        {
            var number = _calls.Count + 1;
            call = new FakeLockCall(number, keys, requested, wait, throwOnTimeout, FailureOf(number, keys));
            if (_firstToken is { } first && call.Failure is not (FakeLockFailure.Timeout or FakeLockFailure.Unavailable or FakeLockFailure.Conflict))
            {
                call.FencingTokens = NextTokens(keys, first);
            }

            _calls.Add(call);
            configure = [.. _configureContext];
        }

        var context = new LockContext(keys, Name, wait, TimeProvider.System);
        for (var i = 0; i < call.FencingTokens.Count; i++)
        {
            context.SetFencingToken(i, call.FencingTokens[i]);
        }

        foreach (var action in configure)
        {
            action(context);
        }

        return (call, context);
    }

    private FakeLockFailure? FailureOf(int number, LockKeySet keys)
    {
        if (_failCalls.TryGetValue(number, out var byNumber))
        {
            return byNumber;
        }

        foreach (var key in keys)
        {
            if (_failKeys.TryGetValue(key, out var byKey))
            {
                return byKey;
            }
        }

        return null;
    }

    private long[] NextTokens(LockKeySet keys, long first)
    {
        var tokens = new long[keys.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = _lastTokens.TryGetValue(keys[i], out var last) ? last + 1 : first;
            _lastTokens[keys[i]] = tokens[i];
        }

        return tokens;
    }

    private static void CheckDefined(FakeLockFailure failure)
    {
        if (!Enum.IsDefined(failure))
        {
            throw new ArgumentOutOfRangeException(nameof(failure), failure, "Not a defined FakeLockFailure.");
        }
    }
}
