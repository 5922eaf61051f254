using System.Data.Common;
using System.Text;
using Dapper;
using DualLock;
using Microsoft.Extensions.Options;
using UserPointApi.Api;
using UserPointApi.Data;
using UserPointApi.Idempotency;
using UserPointApi.Locking;

namespace UserPointApi.Points;

/// <summary>A charge or use waiting to be combined; <see cref="WorkDone"/> says its statements ran, so a failure after it is a commit failure.</summary>
public sealed class CombinedWrite(PointCommand command)
{
    public PointCommand Command { get; } = command;

    public bool WorkDone { get; set; }
}

/// <summary>
/// The <c>combined</c> strategy: the charges and uses of one user queued in this instance run in one
/// critical section of the dual pipeline (Redis outside, transaction + <c>SELECT ... FOR UPDATE</c> inside).
/// The leader applies them in arrival order to the balance read under the row lock, rejects an
/// overdraft or overflow item by item, then writes one <c>UPDATE</c>, one multi-row ledger
/// <c>INSERT</c> (one entry per item) and the idempotency responses, and commits once.
/// </summary>
public sealed class CombinedPointWrites
{
    private const string PointColumns = "id, user_id, amount, version, created_at, updated_at";
    private readonly Dictionary<string, LockCombiner<CombinedWrite, PointWriteDto>> _combiners = new(StringComparer.Ordinal);
    private readonly PointOptions _limits;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _raceWindow;

    private readonly SqlDialect _sql;

    public CombinedPointWrites(IServiceProvider services, IOptions<LockingOptions> locking, IOptions<PointOptions> limits, TimeProvider timeProvider, Database database)
    {
        _sql = database.Sql;
        _limits = limits.Value;
        _timeProvider = timeProvider;
        _raceWindow = TimeSpan.FromMilliseconds(locking.Value.RaceWindowMs);
        foreach (var operation in new[] { PointCommand.Charge, PointCommand.Use })
        {
            if (locking.Value.StrategyFor(operation) == LockStrategy.Combined)
            {
                var pipeline = services.GetRequiredKeyedService<LockPipeline>(operation);
                _combiners[operation] = new LockCombiner<CombinedWrite, PointWriteDto>(pipeline, RunBatchAsync, new LockCombinerOptions { TimeProvider = timeProvider });
            }
        }
    }

    /// <summary>Gets a value indicating whether <paramref name="operation"/> runs combined.</summary>
    public bool Handles(string operation) => _combiners.ContainsKey(operation);

    public ValueTask<PointWriteDto> ExecuteAsync(LockKey key, CombinedWrite write, CancellationToken cancellationToken)
        => _combiners[write.Command.Operation].ExecuteAsync(key, write, cancellationToken);

    private async ValueTask RunBatchAsync(LockContext context, LockBatch<CombinedWrite, PointWriteDto> batch, CancellationToken cancellationToken)
    {
        var stage = StrategyWiring.StageTransaction(context)
            ?? throw new InvalidOperationException("The combined strategy needs the pipeline's transaction stage.");
        var (connection, transaction) = (stage.Connection, stage.Transaction);
        var userId = batch[0].Command.UserId;

        // The row lock stage already holds this row FOR UPDATE: the balance cannot change until the commit.
        var point = await connection.QuerySingleOrDefaultAsync<PointRow>(new CommandDefinition(
            $"SELECT {PointColumns} FROM user_points WHERE user_id = @userId", new { userId }, transaction, cancellationToken: cancellationToken));
        if (point is null)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                batch.SetException(i, new ApiException(StatusCodes.Status404NotFound, ErrorCodes.UserPointNotFound, "No such user."));
            }

            return;
        }

        var owned = await LockClaimsAsync(connection, transaction, batch, cancellationToken);
        var balance = point.Amount;
        var accepted = new List<(int Index, string EntryId, long Delta, long BalanceAfter)>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var command = batch[i].Command;
            if (command.Claim is { } claim && !owned.Contains(claim.Key + "\n" + claim.Owner))
            {
                batch.SetException(i, new ApiException(StatusCodes.Status409Conflict, ErrorCodes.IdempotencyInProgress, "This request's Idempotency-Key was taken over by a later attempt; nothing was changed.", retryAfterSeconds: 1));
                continue;
            }

            var delta = command.Operation == PointCommand.Charge ? command.Amount : -command.Amount;
            var next = balance + delta;
            if (next < 0)
            {
                // Only this caller is refused; the items after it see the balance without it.
                batch.SetException(i, ApiException.Conflict(ErrorCodes.InsufficientBalance, $"The balance is {balance}; cannot use {-delta}."));
                continue;
            }

            if (next > _limits.MaxBalance)
            {
                batch.SetException(i, ApiException.Conflict(ErrorCodes.AmountOverflow, $"The balance would be {next}; the maximum is {_limits.MaxBalance}."));
                continue;
            }

            balance = next;
            accepted.Add((i, Ids.New(), delta, balance));
        }

        if (accepted.Count == 0)
        {
            return;
        }

        if (_raceWindow > TimeSpan.Zero)
        {
            // The same artificial delay every strategy gets, once per critical section.
            await Task.Delay(_raceWindow, _timeProvider, cancellationToken);
        }

        var now = DateTime.SpecifyKind(
            await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition($"SELECT {_sql.Now}", transaction: transaction, cancellationToken: cancellationToken)),
            DateTimeKind.Utc);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE user_points SET amount = @balance, version = version + 1, updated_at = @now WHERE user_id = @userId",
            new { balance, now, userId }, transaction, cancellationToken: cancellationToken));

        var results = new PointWriteDto[accepted.Count];
        var ledger = new StringBuilder("INSERT INTO point_ledger (id, user_id, type, amount, balance_after, created_at) VALUES ");
        var completions = new StringBuilder();
        var parameters = new DynamicParameters(new { userId, now });
        var claims = 0;
        for (var n = 0; n < accepted.Count; n++)
        {
            var (index, entryId, delta, balanceAfter) = accepted[n];
            var command = batch[index].Command;
            results[n] = new PointWriteDto(point.Id, point.UserId, balanceAfter, point.CreatedAt, now, entryId);
            ledger.Append(n == 0 ? "" : ", ").Append($"(@e{n}, @userId, @t{n}, @d{n}, @b{n}, @now)");
            parameters.Add($"e{n}", entryId);
            parameters.Add($"t{n}", command.Operation);
            parameters.Add($"d{n}", delta);
            parameters.Add($"b{n}", balanceAfter);
            if (command.Claim is { } claim)
            {
                // Committed with the write, as in the other strategies: a replay never returns a rolled-back write.
                completions.Append($"UPDATE idempotency_keys SET status = 'completed', status_code = 200, response = @r{n}, completed_at = {_sql.Now} WHERE idem_key = @k{n} AND owner = @o{n} AND status = 'pending';");
                parameters.Add($"r{n}", ApiJson.Success(results[n]));
                parameters.Add($"k{n}", claim.Key);
                parameters.Add($"o{n}", claim.Owner);
                claims++;
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(ledger.ToString(), parameters, transaction, cancellationToken: cancellationToken));
        if (claims > 0)
        {
            var completed = await connection.ExecuteAsync(new CommandDefinition(completions.ToString(), parameters, transaction, cancellationToken: cancellationToken));
            if (completed != claims)
            {
                // The claims were locked above, so this cannot happen unless the schema changed: fail the batch, roll back.
                throw new InvalidOperationException($"Completed {completed} of {claims} idempotency claims.");
            }
        }

        for (var n = 0; n < accepted.Count; n++)
        {
            var index = accepted[n].Index;
            batch[index].WorkDone = true;
            batch.SetResult(index, results[n]);
        }
    }

    /// <summary>Locks the batch's pending idempotency claims for the transaction and returns those still owned by their request.</summary>
    private async Task<HashSet<string>> LockClaimsAsync(DbConnection connection, DbTransaction transaction, LockBatch<CombinedWrite, PointWriteDto> batch, CancellationToken cancellationToken)
    {
        var keys = batch.Where(w => w.Command.Claim is not null).Select(w => w.Command.Claim!.Key).ToList();
        if (keys.Count == 0)
        {
            return [];
        }

        var rows = await connection.QueryAsync<(string Key, string Owner)>(new CommandDefinition(
            $"SELECT idem_key, owner FROM idempotency_keys WHERE idem_key {_sql.InList("keys")} AND status = 'pending' FOR UPDATE",
            new { keys }, transaction, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.Key + "\n" + r.Owner)];
    }
}
