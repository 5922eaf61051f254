using System.Reflection;
using MySqlConnector;

namespace DualLock.AspNetCore.Tests.ProblemDetails;

/// <summary>MySqlConnector's exceptions have no public constructor; the tests of the pure table make one by reflection.</summary>
internal static class ExceptionFactory
{
    public static MySqlException MySql(MySqlErrorCode code, Exception? inner = null)
    {
        foreach (var constructor in typeof(MySqlException).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
        {
            var parameters = constructor.GetParameters();
            if (parameters.Length > 0 && parameters[0].ParameterType == typeof(MySqlErrorCode))
            {
                var arguments = parameters.Select(p => p.ParameterType == typeof(MySqlErrorCode) ? code
                    : p.ParameterType == typeof(string) ? (object)"injected"
                    : p.ParameterType == typeof(Exception) ? inner
                    : p.HasDefaultValue ? p.DefaultValue
                    : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray();
                var created = (MySqlException)constructor.Invoke(arguments);
                if (created.ErrorCode == code)
                {
                    return created;
                }
            }
        }

        throw new InvalidOperationException("No MySqlException constructor takes a MySqlErrorCode first; update the test helper for this MySqlConnector version.");
    }
}
