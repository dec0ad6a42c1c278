using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// Collects option problems as operator-facing sentences that name the option, what is wrong
/// and the fix, e.g. <c>Generator:Rate must be positive (got -5). Fix: set Generator__Rate or --rate to a number above 0.</c>
/// </summary>
public sealed class OptionProblems(string section)
{
    private readonly List<string> _failures = [];

    public string Section { get; } = section;

    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Records a problem when <paramref name="ok"/> is false.</summary>
    public OptionProblems Require(bool ok, string key, string problem, string fix)
    {
        if (!ok)
        {
            _failures.Add($"{Section}:{key} {problem}. Fix: {fix}");
        }

        return this;
    }

    public ValidateOptionsResult ToResult() =>
        _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

public static class OptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to a configuration section, validates it with
    /// <typeparamref name="TValidator"/> and fails start-up (not the first use) when it is invalid.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(
        this IServiceCollection services, IConfiguration configuration, string sectionName)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(sectionName))
            .ValidateOnStart();
    }
}
