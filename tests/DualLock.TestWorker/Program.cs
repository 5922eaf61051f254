using DualLock.TestWorker;

// Scenarios are registered by the test areas that need a second process (Redis, MySQL ...).
// Each writes exactly one JSON line to stdout as its result; diagnostics go to stderr.
if (args.Length == 0 || !Scenarios.All.TryGetValue(args[0], out var scenario))
{
    await Console.Error.WriteLineAsync($"usage: DualLock.TestWorker <scenario> [args]; scenarios: {string.Join(", ", Scenarios.All.Keys)}");
    return 2;
}

try
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // bounded: a stuck worker must not hang CI
    return await scenario(args[1..], timeout.Token);
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync(ex.ToString());
    return 1;
}
