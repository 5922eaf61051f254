using System.Globalization;

namespace DualLock.Comparison.Http;

/// <summary>CPU time from /proc (Linux): a process's own, and that of this process's exited children (wrk).</summary>
internal static class ProcessCpu
{
    // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    private const double TicksPerSecond = 100;

    /// <summary>User + system CPU seconds of <paramref name="pid"/>, or NaN when it cannot be read.</summary>
    public static double Seconds(int pid) => Read(pid, children: false);

    /// <summary>User + system CPU seconds of this process's children that have exited and been waited for.</summary>
    public static double ExitedChildrenSeconds() => Read(Environment.ProcessId, children: true);

    private static double Read(int pid, bool children)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // After the command name: field 3 (state) is index 0; utime 14, stime 15, cutime 16, cstime 17.
            var first = children ? 13 : 11;
            return (long.Parse(fields[first], CultureInfo.InvariantCulture) + long.Parse(fields[first + 1], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
