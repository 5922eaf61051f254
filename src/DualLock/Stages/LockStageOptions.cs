namespace DualLock;

/// <summary>
/// The base of every stage's options: the stage <see cref="Name"/> and one validation, run once
/// when the pipeline is built (<see cref="LockPipelineBuilder.Build"/>), on a copy taken when the
/// stage was added, so later changes by the caller do not reach the stage.
/// </summary>
public abstract class LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="LockStageOptions"/> class.</summary>
    /// <param name="defaultName">The stage name used unless <see cref="Name"/> is set.</param>
    protected LockStageOptions(string defaultName) => Name = defaultName;

    /// <summary>Gets or sets the stage name used in exceptions, metrics and traces; unique within a pipeline.</summary>
    /// <value>Default: the stage's own name, for example <c>redis</c> or <c>mysql-transaction</c>. Must not be empty.</value>
    public string Name { get; set; }

    /// <summary>Returns what is wrong with the options other than the name, or <see langword="null"/> when they are valid.</summary>
    /// <returns>A message naming the option, its value and the rule, or <see langword="null"/>.</returns>
    protected virtual string? FindProblem() => null;

    /// <summary>Returns the first problem, the name included, or <see langword="null"/>.</summary>
    internal string? Problem()
        => string.IsNullOrWhiteSpace(Name) ? $"{GetType().Name}.Name must not be empty." : FindProblem();

    /// <summary>Throws <see cref="ArgumentException"/> with the first problem, naming the pipeline.</summary>
    internal void ThrowIfInvalid(string pipeline)
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentException($"Pipeline '{pipeline}': {problem}");
        }
    }

    /// <summary>A shallow copy; options hold only values.</summary>
    internal LockStageOptions Copy() => (LockStageOptions)MemberwiseClone();
}
