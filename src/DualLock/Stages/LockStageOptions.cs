namespace DualLock;

/// <summary>
/// The base of every stage's options: the stage <see cref="Name"/> and one validation,
/// <see cref="Validate()"/>, run once when the stage is added to a <see cref="LockPipelineBuilder"/>, on
/// the copy the builder keeps (later changes by the caller do not reach the stage).
/// </summary>
/// <remarks>
/// Invalid options make the builder's <c>AddXxx</c> call throw one <see cref="ArgumentException"/> that lists
/// every problem, each naming the option (<c>RedisLockOptions.Lease</c>), the rule and the value. Options
/// registered in DI are checked by the same rules when the host starts, and reported there as an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> with the same messages.
/// </remarks>
public abstract class LockStageOptions
{
    /// <summary>Initializes a new instance of the <see cref="LockStageOptions"/> class.</summary>
    /// <param name="defaultName">The stage name used unless <see cref="Name"/> is set.</param>
    protected LockStageOptions(string defaultName) => Name = defaultName;

    /// <summary>Gets or sets the stage name used in exceptions, metrics and traces; unique within a pipeline.</summary>
    /// <value>Default: the stage's own name, for example <c>redis</c> or <c>mysql-transaction</c>. Must not be empty.</value>
    public string Name { get; set; }

    /// <summary>Returns every problem with these options; none when they are valid.</summary>
    /// <returns>One message per problem, naming the option, the rule and the value it had.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Validate(problems);
        return problems;
    }

    /// <summary>Adds every problem with these options to <paramref name="problems"/>.</summary>
    /// <param name="problems">Where the problems are collected.</param>
    /// <remarks>An override adds its own problems after calling the base, which checks <see cref="Name"/>.</remarks>
    protected virtual void Validate(ICollection<string> problems)
        => OptionChecks.For(this, problems).NotEmpty(nameof(Name), Name);

    /// <summary>A shallow copy; options hold only values.</summary>
    internal LockStageOptions Copy() => (LockStageOptions)MemberwiseClone();
}
