using DualLock.MySql;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

// The names a doc block may use without declaring them: what the surrounding application would have (a
// service collection, the web app, a Redis connection, a connection string, the request's id and token) and
// the caller's own data access. Every generated snippet class derives from this one; a block that declares a
// name of its own (var services = new ServiceCollection()) shadows it. Nothing here runs.
#pragma warning disable SA1300, IDE1006, CA1707 // lower-case names, as the blocks write them
internal abstract class DocAmbient
{
    protected static readonly string[] args = [];
    protected static readonly IServiceCollection services = new ServiceCollection();
    protected static readonly WebApplication app = null!;
    protected static readonly IConnectionMultiplexer redis = null!;
    protected static readonly string connectionString = "";
    protected static readonly string mySqlConnectionString = "";
    protected static readonly string redisConnectionString = "";
    protected static readonly CancellationToken cancellationToken = default;
    protected static readonly long userId = 42;
    protected static readonly long id = 42;
    protected static readonly long amount = 100;
    protected static readonly long tenantId = 7;
    protected static readonly DualLock.LockKey key = new("user-point", 42L);

    protected static ValueTask<long> ChargeAsync(long userId, long amount, CancellationToken cancellationToken) => default;
    protected static ValueTask<long> ReadBalanceAsync(MySqlTransactionFeature transaction, CancellationToken cancellationToken) => default;
    protected static ValueTask WriteBalanceAsync(MySqlTransactionFeature transaction, long balance, CancellationToken cancellationToken) => default;
    protected static ValueTask<decimal> LoadPriceAsync(CancellationToken cancellationToken) => default;
    protected static ValueTask<bool> StorePriceAsync(long fencingToken, CancellationToken cancellationToken) => default;
    protected static ValueTask ExportAsync(CancellationToken cancellationToken) => default;

    protected sealed class InsufficientFundsException : Exception;
}
