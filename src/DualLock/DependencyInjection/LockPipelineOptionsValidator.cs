using Microsoft.Extensions.Options;

namespace DualLock;

/// <summary>Validates every named <see cref="LockPipelineOptions"/> when the host starts, by the rules the builder applies.</summary>
internal sealed class LockPipelineOptionsValidator : IValidateOptions<LockPipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, LockPipelineOptions options)
    {
        // Named after the pipeline they configure: LockPipelineOptions['charge'].WaitTimeout.
        var problems = new List<string>();
        var check = new OptionChecks(problems, $"{nameof(LockPipelineOptions)}['{name}']");
        check.NotEmpty("Name", name); // the unnamed options configure no pipeline
        LockPipelineOptions.Validate(check, options.WaitTimeout);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
