using DualLock.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace DualLock.Tests.Redis;

/// <summary>
/// The renewal watchdog on a fake clock: a renewal "call" is a task the test completes at a chosen
/// fake time. The lease in Redis ends no earlier than Lease after the last confirmed renewal was sent;
/// a loss must be declared before that moment, never after.
/// </summary>
public sealed class RedisLeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Renewal = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private enum Answer
    {
        Renewed,
        NotOurs,
        FailAtOnce,
        TimeOut,
    }

    [Fact]
    public void Renewal_FastFailuresThenNoAnswer_LossDeclaredBeforeTheLeaseCanEnd()
    {
        // Refused connections answer at once; then Redis hangs and the third renewal takes the whole operation timeout.
        var (time, lease, calls) = Start([Answer.FailAtOnce, Answer.FailAtOnce, Answer.TimeOut, Answer.TimeOut]);

        var lostAt = RunUntilLost(time, lease, Lease + Lease);

        Assert.True(lostAt < Lease, $"loss declared at {lostAt.TotalSeconds} s; the lease (confirmed at 0 s) could end at {Lease.TotalSeconds} s");
        Assert.Equal(TimeSpan.FromSeconds(6), lostAt); // the failure at 6 s: the next renewal (9 s) could answer at 11 s
        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public void Renewal_SlowConfirmationThenNoAnswer_LeaseCountsFromWhenTheRenewalWasSent()
    {
        // Renewal 1 is sent at 3 s and confirmed at 4.9 s: the lease may end at 13 s (sent + lease), not 14.9 s.
        var (time, lease, calls) = Start([Answer.Renewed, Answer.FailAtOnce, Answer.FailAtOnce, Answer.TimeOut, Answer.TimeOut], confirmAfter: TimeSpan.FromMilliseconds(1900));

        var lostAt = RunUntilLost(time, lease, Lease + Lease);

        Assert.True(lostAt < Renewal + Lease, $"loss declared at {lostAt.TotalSeconds} s; the lease (renewed by a call sent at 3 s) could end at 13 s");
        Assert.True(calls[0] == Renewal, $"first renewal sent at {calls[0]}");
    }

    [Fact]
    public void Renewal_EveryRenewalConfirmed_NeverLostAndSentEveryInterval()
    {
        var (time, lease, calls) = Start([.. Enumerable.Repeat(Answer.Renewed, 100)], confirmAfter: TimeSpan.FromMilliseconds(500));

        var lostAt = RunUntilLost(time, lease, TimeSpan.FromSeconds(31));

        Assert.Equal(TimeSpan.MaxValue, lostAt);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => Renewal * i), calls);
    }

    [Fact]
    public void Renewal_LockNoLongerOurs_LostAtTheFirstRenewal()
    {
        var (time, lease, _) = Start([Answer.NotOurs]);

        Assert.Equal(Renewal, RunUntilLost(time, lease, Lease));
    }

    [Fact]
    public async Task Renewal_AfterStop_NoMoreCalls()
    {
        var (time, lease, calls) = Start([.. Enumerable.Repeat(Answer.Renewed, 100)]);
        RunUntilLost(time, lease, TimeSpan.FromSeconds(4));
        await lease.StopAsync();

        RunUntilLost(time, lease, TimeSpan.FromSeconds(30));

        Assert.Single(calls);
        Assert.False(lease.IsLost);
    }

    /// <summary>Advances the fake clock in steps; returns the elapsed fake time when the lease was first found lost, or <see cref="TimeSpan.MaxValue"/>.</summary>
    private static TimeSpan RunUntilLost(FakeTimeProvider time, RedisLease lease, TimeSpan until)
    {
        var origin = Origin(time);
        while (time.GetUtcNow() - origin < until)
        {
            if (lease.IsLost)
            {
                return time.GetUtcNow() - origin;
            }

            time.Advance(Step);
        }

        return lease.IsLost ? time.GetUtcNow() - origin : TimeSpan.MaxValue;
    }

    private static DateTimeOffset Origin(FakeTimeProvider time) => time.Start;

    private static (FakeTimeProvider Time, RedisLease Lease, List<TimeSpan> Calls) Start(Answer[] answers, TimeSpan? confirmAfter = null)
    {
        var time = new FakeTimeProvider();
        var calls = new List<TimeSpan>();
        var settings = new LeaseSettings("redis", new LockKey("test", "1"), Lease, Renewal, TimeSpan.FromHours(1), OperationTimeout, time, NullLogger.Instance, RedisLockTelemetry.For(null));
        var lease = new RedisLease("token", 1, settings, _ =>
        {
            var answer = answers[calls.Count];
            calls.Add(time.GetUtcNow() - time.Start);
            return answer switch
            {
                Answer.FailAtOnce => Task.FromException<bool>(new RedisConnectionException(ConnectionFailureType.SocketFailure, "refused")),
                Answer.NotOurs => Task.FromResult(false),
                Answer.Renewed when confirmAfter is null => Task.FromResult(true),
                Answer.Renewed => After(time, confirmAfter.Value, () => true),
                _ => After<bool>(time, OperationTimeout, () => throw new TimeoutException()),
            };
        }, time.GetTimestamp());
        lease.Start();
        return (time, lease, calls);
    }

    /// <summary>A call that answers at a later fake time; completes inline so the watchdog reacts within the same Advance.</summary>
    private static Task<T> After<T>(FakeTimeProvider time, TimeSpan delay, Func<T> answer)
    {
        var done = new TaskCompletionSource<T>();
        ITimer? timer = null;
        timer = time.CreateTimer(
            _ =>
            {
                timer?.Dispose();
                try
                {
                    done.SetResult(answer());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            null,
            delay,
            Timeout.InfiniteTimeSpan);
        return done.Task;
    }
}
