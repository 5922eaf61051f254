using System.Reflection;
using System.Text;

namespace DualLock.IntegrationTests.Contract;

/// <summary>Every provider's suite either runs each contract case or says why not; prints the matrix.</summary>
public sealed class ContractMatrixTests
{
    [Fact]
    public void Suites_EveryCase_RunOrNotApplicableWithReason()
    {
        var suites = typeof(ContractMatrixTests).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && IsContractSuite(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(12, suites.Length);

        var matrix = new StringBuilder();
        var problems = new List<string>();
        foreach (var suite in suites)
        {
            var run = suite.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .SelectMany(m => m.GetCustomAttributes<ContractCaseAttribute>())
                .Select(a => a.Case)
                .ToHashSet();
            var notApplicable = suite.GetCustomAttributes<NotApplicableAttribute>().ToDictionary(a => a.Case, a => a.Reason);
            matrix.Append(suite.Name);
            foreach (var contractCase in Enum.GetValues<ContractCase>())
            {
                var ran = run.Contains(contractCase);
                var reason = notApplicable.GetValueOrDefault(contractCase);
                if (ran == (reason is not null))
                {
                    problems.Add($"{suite.Name}: {contractCase} is {(ran ? "both run and declared not applicable" : "neither run nor declared not applicable")}");
                }

                if (reason is not null && string.IsNullOrWhiteSpace(reason))
                {
                    problems.Add($"{suite.Name}: {contractCase} is not applicable without a reason");
                }

                matrix.Append(ran ? $" | {contractCase}: ran" : $" | {contractCase}: n/a ({reason})");
            }

            matrix.AppendLine();
        }

        TestContext.Current.TestOutputHelper?.WriteLine(matrix.ToString());
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static bool IsContractSuite(Type type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(LockContractTests<>))
            {
                return true;
            }
        }

        return false;
    }
}
