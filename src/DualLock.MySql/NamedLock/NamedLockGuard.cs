using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// What a held named lock puts in the context for the transaction stage inside it: before committing,
/// the transaction asks it to confirm, on the lock's own session, that the lock is still this session's.
/// A session that dropped (network, server-side timeout, KILL) has lost its lock without being told,
/// and another holder may already be in; the commit is then refused.
/// </summary>
internal sealed class NamedLockGuard : IDisposable
{
    private const string ConfirmSql = "SELECT IS_USED_LOCK(@name) = CONNECTION_ID()";

    private readonly MySqlNamedLockStage _stage;
    private readonly LockContext _context;
    private readonly MySqlConnection _connection;
    private readonly string _name;
    private readonly CancellationTokenSource _lost = new();
    private int _reported;
    private int _givenBack;

    public NamedLockGuard(MySqlNamedLockStage stage, LockContext context, MySqlConnection connection, string name, NamedLockGuard? outer)
    {
        _stage = stage;
        _context = context;
        _connection = connection;
        _name = name;
        Outer = outer;
    }

    /// <summary>Gets the guard of a named lock further out, when a pipeline has more than one.</summary>
    public NamedLockGuard? Outer { get; }

    public string StageName => _stage.Name;

    /// <summary>Gets a token that fires once the stage has learned the lock is gone.</summary>
    public CancellationToken LeaseLost => _lost.Token;

    public bool IsLost => Volatile.Read(ref _reported) != 0;

    /// <summary>One round trip on the lock's session; <see langword="false"/> when the lock is no longer this session's or the session cannot answer.</summary>
    public async ValueTask<bool> ConfirmHeldAsync()
    {
        if (IsLost)
        {
            return false;
        }

        try
        {
            var held = await MySqlCommands.Create(_connection, ConfirmSql).With("name", _name).ScalarInt64Async(CancellationToken.None).ConfigureAwait(false);
            if (held == 1)
            {
                return true;
            }

            ReportLost("the lock is no longer held by its session");
        }
#pragma warning disable CA1031 // whatever the failure, the lock cannot be confirmed: refusing the commit is the safe answer
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportLost($"its session did not answer ({ex.GetType().Name})");
        }

        return false;
    }

    /// <summary>Records the loss once: fires <see cref="LeaseLost"/>, logs a warning and counts it.</summary>
    public void ReportLost(string how)
    {
        if (Interlocked.Exchange(ref _reported, 1) != 0)
        {
            return;
        }

        _stage.Telemetry.NamedLockLost.Add(
            1,
            new(DualLock.Telemetry.DualLockTelemetry.PipelineTag, _context.PipelineName),
            new(DualLock.Telemetry.DualLockTelemetry.StageTag, _stage.Name));
        Log.NamedLockLost(_stage.Logger, _stage.Name, _context.Keys.First.Resource, how);
        _lost.CancelQuietly(); // a throwing lease-lost callback must not hide the loss itself
    }

    /// <summary>Gets a value indicating whether the lock was released (given back) before the transaction ended.</summary>
    public bool GivenBack => Volatile.Read(ref _givenBack) != 0;

    public void Dispose()
    {
        Volatile.Write(ref _givenBack, 1);
        _lost.Dispose();
    }
}
