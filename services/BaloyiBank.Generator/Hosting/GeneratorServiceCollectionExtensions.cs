using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BaloyiBank.Generator;

public static class GeneratorServiceCollectionExtensions
{
    /// <summary>
    /// Everything the generator needs besides the event log (<c>AddEventLog</c>): validated
    /// <see cref="GeneratorOptions"/> from the "Generator" section, <see cref="GeneratorProgress"/>,
    /// <see cref="GeneratorTelemetry"/> and the <see cref="GeneratorWorker"/>.
    /// </summary>
    public static IServiceCollection AddGenerator(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<GeneratorOptions, GeneratorOptionsValidator>(configuration, GeneratorOptions.SectionName);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GeneratorProgress>();
        services.TryAddSingleton<GeneratorTelemetry>();
        services.AddHostedService<GeneratorWorker>();
        return services;
    }
}
