using Microsoft.Extensions.Options;

namespace DualLock.Redis;

/// <summary>Validates <see cref="RedisLockOptions"/> when the host starts.</summary>
internal sealed class RedisLockOptionsValidator : IValidateOptions<RedisLockOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisLockOptions options)
        => options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
