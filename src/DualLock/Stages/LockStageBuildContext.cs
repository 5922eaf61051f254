using Microsoft.Extensions.Logging;

namespace DualLock;

/// <summary>What a stage factory receives when its pipeline is built.</summary>
public sealed class LockStageBuildContext
{
    internal LockStageBuildContext(string pipelineName, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        PipelineName = pipelineName;
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory;
    }

    /// <summary>Gets the name of the pipeline being built.</summary>
    public string PipelineName { get; }

    /// <summary>Gets the time source of the pipeline; stages measure leases and waits with it.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the logger factory of the pipeline.</summary>
    public ILoggerFactory LoggerFactory { get; }
}
