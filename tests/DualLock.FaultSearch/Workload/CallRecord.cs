using System.Text.Json.Serialization;

namespace DualLock.FaultSearch.Workload;

/// <summary>One call of a worker and how it ended: a line of the worker's history (JSONL).</summary>
internal sealed class CallRecord
{
    public const string Applied = "applied";
    public const string Failed = "failed";

    /// <summary>The harness's own ledger write failed (not the lock's business): the call is judged by nothing but the witness.</summary>
    public const string HarnessError = "harness-error";

    public string Id { get; set; } = string.Empty;

    public string Strategy { get; set; } = string.Empty;

    /// <summary>Gets or sets x (exclusive), w/r (reader-writer) or s (semaphore).</summary>
    public string Kind { get; set; } = "x";

    /// <summary>Gets or sets the witness's holder id: the call's own, or its batch's (combiner).</summary>
    public string Holder { get; set; } = string.Empty;

    public string[] KeyIds { get; set; } = [];

    public int Pid { get; set; }

    /// <summary>Gets or sets milliseconds from the call's start to the witness's enter ack; null when it never entered.</summary>
    public double? EnteredMs { get; set; }

    /// <summary>Gets or sets milliseconds from the call's start to just before the exit was sent.</summary>
    public double? ExitingMs { get; set; }

    public double EndMs { get; set; }

    /// <summary>Gets or sets whether the work ran to its end (its ledger row was written).</summary>
    public bool WorkReturned { get; set; }

    public long? Token { get; set; }

    /// <summary>Gets or sets the fencing token of each key, in <see cref="KeyIds"/> order (a key set has one token per key).</summary>
    public long?[] KeyTokens { get; set; } = [];

    public string Outcome { get; set; } = string.Empty;

    public string? Error { get; set; }

    /// <summary>Gets or sets a value indicating whether the work saw its lease lost when it returned (a call that did must not be reported applied).</summary>
    public bool LeaseLostSeen { get; set; }

    /// <summary>Gets or sets the stage that reported the lease lost (<see cref="LockContext.LeaseLostStage"/>), when the work saw one.</summary>
    public string? LeaseLostStage { get; set; }

    public string? Message { get; set; }

    /// <summary>Gets or sets the token a fence refused this call with (<see cref="LockLeaseLostException.RefusedFencingToken"/>), when one did.</summary>
    public long? RefusedToken { get; set; }

    /// <summary>Gets or sets when the call started (Stopwatch timestamp of the worker; not serialized).</summary>
    [JsonIgnore]
    public long StartTimestamp { get; set; }

    /// <summary>Gets or sets the call's keys (not serialized; the key ids are).</summary>
    [JsonIgnore]
    public LockKey[] Keys { get; set; } = [];
}

/// <summary>The serializer context of the history and the probe lines (trimming-safe, no reflection).</summary>
[JsonSerializable(typeof(CallRecord))]
[JsonSerializable(typeof(ProbeRecord))]
internal sealed partial class HistoryJson : JsonSerializerContext;

/// <summary>The no-wedge probe of one key after the faults stopped.</summary>
/// <param name="AcquiredLater">When the probe failed: whether a second probe 3 s later acquired the key (null when the first did).</param>
/// <summary>One no-wedge probe: when it started (Environment.TickCount64, comparable across the workers), and on a failure what Redis held for the key just after.</summary>
internal sealed record ProbeRecord(string Strategy, string KeyId, int Pid, bool Acquired, double Ms, string? Error, bool? AcquiredLater = null, long StartedAt = 0, string? RedisState = null);
