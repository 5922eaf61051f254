using StackExchange.Redis;

namespace DualLock.Benchmarks;

internal static partial class Contenders
{
    /// <summary>
    /// Hot-row charges on MariaDB (<c>--lib mysql-row|mysql-dual|mysql-named|mysql-optimistic|mysql-atomic|mysql-plain</c>).
    /// The "wait" is the whole charge; the check is the row itself: its final value must equal the
    /// number of charges (mysql-plain, with no lock, is expected to lose some).
    /// </summary>
    private sealed class MySqlContender(ConnectionMultiplexer redis, MySqlCharges charges, string variant) : Contender(redis)
    {
        private readonly Func<Task> _charge = variant switch
        {
            "mysql-row" => () => charges.ForUpdateAsync().AsTask(),
            "mysql-dual" => () => charges.DualAsync().AsTask(),
            "mysql-named" => () => charges.NamedLockAsync().AsTask(),
            "mysql-optimistic" => () => charges.OptimisticAsync().AsTask(),
            "mysql-atomic" => charges.AtomicAsync,
            "mysql-plain" => charges.PlainAsync,
            _ => throw new ArgumentException($"unknown --lib {variant}"),
        };

        /// <summary>The lock (if any) lives in the charge; the harness's callback only records the latency.</summary>
        public override bool WorkRunsInsideLock => false;

        public override async Task<bool> RunAsync(Func<Task> work)
        {
            await _charge();
            await work();
            return true;
        }

        public override async Task<string?> VerifyAsync(long acquisitionsOfAllProcesses)
        {
            var balance = await charges.BalanceAsync();
            return balance == acquisitionsOfAllProcesses ? null : $"row holds {balance} after {acquisitionsOfAllProcesses} charges: {acquisitionsOfAllProcesses - balance} lost";
        }

        public override async ValueTask DisposeAsync()
        {
            await charges.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    private static async Task<Contender> CreateMySqlAsync(ConnectionMultiplexer redis, HarnessOptions options)
        => new MySqlContender(redis, await MySqlCharges.CreateAsync(options.Key, redis), options.Library);
}
