using DualLock.FaultSearch.Search;
using DualLock.FaultSearch.Workload;

// The fault-search harness (docs/fault-search.md). Exit: 0 no finding beyond the allowed ones and the
// negative control caught; 1 findings; 2 usage; 3 the negative control was not caught (oracle unproven); 4 the run failed.
try
{
    if (args.Length > 0 && args[0] == "worker")
    {
        var options = new Dictionary<string, string>();
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return await Worker.RunAsync(WorkerArguments.Parse(options));
    }

    if (args.Length == 0 || args[0] != "search")
    {
        await Console.Error.WriteLineAsync("usage: DualLock.FaultSearch search [--seed N | --seeds K [--first-seed N] | --minutes M] [--length S] [--strategies a,b] [--clients N] [--keys N] [--allow CODE,...] [--out DIR]");
        return 2;
    }

    SearchOptions search;
    try
    {
        search = SearchOptions.Parse(args[1..]);
    }
    catch (ArgumentException ex)
    {
        await Console.Error.WriteLineAsync("fault-search: " + ex.Message);
        return 2;
    }

    return await SearchLoop.RunAsync(search);
}
catch (Exception ex)
{
    await Console.Error.WriteLineAsync("fault-search: the run failed: " + ex);
    return 4;
}
