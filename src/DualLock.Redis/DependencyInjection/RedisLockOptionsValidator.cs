using Microsoft.Extensions.Options;

namespace DualLock.Redis;

/// <summary>Validates <see cref="RedisLockOptions"/> when the host starts, by the rules the builder applies (<see cref="LockStageOptions.Validate()"/>).</summary>
internal sealed class RedisLockOptionsValidator : IValidateOptions<RedisLockOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisLockOptions options)
        => options.Validate() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
