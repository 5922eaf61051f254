using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>What a stage factory receives when its pipeline is built.</summary>
public sealed class LockStageBuildContext
{
    internal LockStageBuildContext(string pipelineName, TimeProvider timeProvider, ILoggerFactory loggerFactory, Meter meter)
    {
        PipelineName = pipelineName;
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory;
        Meter = meter;
    }

    /// <summary>Gets the name of the pipeline being built.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the time source of the pipeline; stages measure leases and waits with it.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the logger factory of the pipeline.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Gets the <c>DualLock</c> meter; a stage creates its own instruments on it (dotted lower-case names starting with <c>duallock.</c>).</summary>
    public Meter Meter { get; }
}
