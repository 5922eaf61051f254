using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DualLock;

/// <summary>
/// Builds every registered strategy when the host starts, before any hosted service's <c>StartAsync</c>: invalid
/// stage options, a malformed connection string, a missing service or an unsafe composition fail the start with one
/// message naming each strategy and its problem, instead of the first request that resolves the strategy.
/// </summary>
/// <remarks>
/// Building connects nothing (the Redis stages of DI wait for the connection the Redis startup makes), so a server
/// that is down does not fail this check. Off with <c>DualLockBuilder.ValidateOnStart = false</c>.
/// </remarks>
internal sealed class LockStrategyStartup(LockStrategyRegistry registry, IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!registry.ValidateOnStart)
        {
            return Task.CompletedTask;
        }

        var failures = new List<Exception>();
        var lines = new List<string>();
        foreach (var name in registry.Names)
        {
            try
            {
                _ = services.GetRequiredKeyedService<LockPipeline>(name);
            }
            catch (Exception ex)
            {
                // Whatever stops a strategy from building (options, composition, a missing service, the caller's own
                // configure callback) is what its first request would have thrown: report all of them at once.
                failures.Add(ex);
                var message = ex is Microsoft.Extensions.Options.OptionsValidationException options ? string.Join(" ", options.Failures) : ex.Message;
                lines.Add($"- '{name}': {message}");
            }
        }

        foreach (var (name, target, path) in registry.Operations)
        {
            if (registry.OperationProblem(name, target, path) is { } problem)
            {
                failures.Add(new InvalidOperationException(problem));
                lines.Add($"- {problem}");
            }
        }

        if (failures.Count == 0)
        {
            return Task.CompletedTask;
        }

        throw new InvalidOperationException(
            $"DualLock: {failures.Count} of {registry.Names.Count + registry.Operations.Count} lock strategies and operations cannot be built (checked at host start; DualLockBuilder.ValidateOnStart = false defers this to their first use):{Environment.NewLine}{string.Join(Environment.NewLine, lines)}",
            new AggregateException(failures));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
