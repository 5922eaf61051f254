using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace DualLock.Redis;

/// <summary>
/// The connection <c>AddRedis(connectionString)</c> registers, made asynchronously: at host start (see
/// <see cref="RedisConnectionStartup"/>) or, without a host, by the first caller that needs it. Nobody is
/// blocked by the connect except who asks for the <see cref="IConnectionMultiplexer"/> itself.
/// </summary>
/// <remarks>
/// <c>abortConnect=false</c>: the connect completes after at most <see cref="ConfigurationOptions.ConnectTimeout"/>
/// even while Redis is down, with a multiplexer that keeps reconnecting in the background.
/// </remarks>
internal sealed class RedisConnectionSource : IAsyncDisposable, IDisposable
{
    private readonly ConfigurationOptions _configuration;
    private readonly ILogger _logger;
    private readonly object _sync = new();
    private Task<ConnectionMultiplexer>? _connect;
    private bool _disposed;

    public RedisConnectionSource(ConfigurationOptions configuration, ILogger logger)
    {
        _configuration = configuration;
        _logger = logger;
        ConnectTimeout = TimeSpan.FromMilliseconds(configuration.ConnectTimeout);
    }

    /// <summary>Gets how long one connect may take (the connection string's <c>connectTimeout</c>, SE.Redis default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>Gets the endpoints, for messages.</summary>
    public string Endpoints => string.Join(",", _configuration.EndPoints.Select(e => e.ToString()));

    /// <summary>Gets when the connect started (<see cref="TimeProvider.System"/> timestamp), or 0 before it did.</summary>
    public long ConnectStarted { get; private set; }

    /// <summary>Gets the connect started last, or <see langword="null"/> before one started; reading it starts none.</summary>
    public Task<ConnectionMultiplexer>? Current => Volatile.Read(ref _connect);

    /// <summary>Starts the connect once (again after one that failed) and returns it; the caller bounds its wait.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync()
    {
        var connect = Volatile.Read(ref _connect);
        if (connect is not null && !connect.IsFaulted && !connect.IsCanceled)
        {
            return connect;
        }

        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connect is null || _connect.IsFaulted || _connect.IsCanceled)
            {
                ConnectStarted = TimeProvider.System.GetTimestamp();

                // Off the caller's thread: even the synchronous part of a connect (endpoint resolution) stays out of a request.
                _connect = Task.Run(() => ConnectionMultiplexer.ConnectAsync(_configuration));
                ConnectionLog.Connecting(_logger, Endpoints, ConnectTimeout.TotalMilliseconds);
            }

            return _connect;
        }
    }

    /// <summary>For who resolves <see cref="IConnectionMultiplexer"/> itself: waits for the connect (at most the connect timeout).</summary>
    public IConnectionMultiplexer Connect() => ConnectAsync().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Detach() is { } redis)
        {
            await redis.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => Detach()?.Dispose();

    /// <summary>Refuses new connects and returns the multiplexer to close, if one was made already.</summary>
    private ConnectionMultiplexer? Detach()
    {
        Task<ConnectionMultiplexer>? connect;
        lock (_sync)
        {
            _disposed = true;
            connect = _connect;
        }

        if (connect is null || connect.IsCompletedSuccessfully)
        {
            return connect?.Result;
        }

        // A connect still under way is not waited for: its multiplexer is closed when it arrives.
        _ = connect.ContinueWith(
            static t => t.Result.Dispose(),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        RedisCall.Observe(connect);
        return null;
    }
}
