using Microsoft.Extensions.Options;

namespace DualLock;

/// <summary>Validates every named <see cref="LockPipelineOptions"/> when the host starts.</summary>
internal sealed class LockPipelineOptionsValidator : IValidateOptions<LockPipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, LockPipelineOptions options)
        => LockPipelineOptions.Problem(name, options.WaitTimeout) is { } problem
            ? ValidateOptionsResult.Fail(problem)
            : ValidateOptionsResult.Success;
}
