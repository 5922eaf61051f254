using System.Data;
using Dapper;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace DualLock.MySql;

/// <summary>
/// Opens a connection and a transaction for the work (<see cref="MySqlTransactionFeature"/>), commits
/// when the work returns and rolls back when it throws or is cancelled. Optionally enforces the
/// outer stage's fencing token at commit.
/// </summary>
internal sealed class MySqlTransactionStage : LockStage
{
    private readonly string _connectionString;
    private readonly IsolationLevel _isolationLevel;
    private readonly string? _fenceTable;
    private readonly string? _fenceSql;
    private readonly bool _createFenceTable;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private volatile bool _fenceTableReady;

    public MySqlTransactionStage(MySqlTransactionOptions options, TimeProvider timeProvider, ILogger logger)
        : base(options.Name)
    {
        _connectionString = options.ConnectionString!;
        _isolationLevel = options.IsolationLevel;
        if (options.EnforceFencing)
        {
            _fenceTable = SqlIdentifier.Quote(options.FenceTable);
            _fenceSql = FenceSql.RecordAndRead(_fenceTable);
        }

        _createFenceTable = options.CreateFenceTable;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Opens the transaction; with EnforceFencing it also enforces the outer stage's token.</summary>
    protected override LockStageTraits Traits => _fenceSql is null ? LockStageTraits.OpensTransaction : LockStageTraits.OpensTransaction | LockStageTraits.EnforcesFencingToken;

    /// <inheritdoc />
    public override async ValueTask<LockStageHandle?> TryAcquireAsync(LockContext context, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = _timeProvider.GetTimestamp();
        var fenced = _fenceSql is not null && context.FencingToken is not null;
        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (fenced && _createFenceTable && !_fenceTableReady)
            {
                // DDL commits implicitly, so it runs before the transaction starts, once per stage.
                await connection.ExecuteAsync(new CommandDefinition(FenceSql.CreateTable(_fenceTable!), cancellationToken: cancellationToken)).ConfigureAwait(false);
                _fenceTableReady = true;
                Log.FenceTableEnsured(_logger, Name, _fenceTable!);
            }

            var transaction = await connection.BeginTransactionAsync(_isolationLevel, cancellationToken).ConfigureAwait(false);
            context.SetFeature(new MySqlTransactionFeature(connection, transaction));
            return new Handle(this, context, connection, transaction, fenced ? context.FencingToken : null, started);
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (ex is not OperationCanceledException && MySqlErrors.IsUnavailable(ex))
            {
                throw new LockUnavailableException(context.Key.Resource, Name, _timeProvider.GetElapsedTime(started), ex);
            }

            throw;
        }
    }

    private sealed class Handle(
        MySqlTransactionStage stage,
        LockContext context,
        MySqlConnection connection,
        MySqlTransaction transaction,
        long? fencingToken,
        long started) : LockStageHandle
    {
        public override async ValueTask ReleaseAsync(bool workSucceeded)
        {
            try
            {
                if (!workSucceeded)
                {
                    await transaction.RollbackAsync().ConfigureAwait(false);
                    return;
                }

                if (fencingToken is { } token)
                {
                    await EnforceFenceAsync(token).ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }
            finally
            {
                // Back to the pool; a transaction still open here (a failed rollback) is rolled back by the pool's reset or the server.
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async ValueTask EnforceFenceAsync(long token)
        {
            var key = context.Key.ToString();
            var stored = await connection.ExecuteScalarAsync<long>(
                new CommandDefinition(stage._fenceSql!, new { key, token }, transaction)).ConfigureAwait(false);
            if (stored > token)
            {
                await transaction.RollbackAsync().ConfigureAwait(false);
                MySqlTelemetry.FenceRejected.Add(1, new(DualLock.Telemetry.DualLockTelemetry.PipelineTag, context.PipelineName), new(DualLock.Telemetry.DualLockTelemetry.StageTag, stage.Name));
                Log.FenceRejected(stage._logger, stage.Name, context.Key.Resource, token, stored);
                throw new LockLeaseLostException(
                    context.Key.Resource,
                    stage.Name,
                    stage._timeProvider.GetElapsedTime(started),
                    $"a holder with the newer fencing token {stored} has already committed (this holder's token is {token}); the transaction was rolled back.");
            }
        }
    }
}
