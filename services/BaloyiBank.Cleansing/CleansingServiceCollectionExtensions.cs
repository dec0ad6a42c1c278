using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BaloyiBank.Cleansing;

public static class CleansingServiceCollectionExtensions
{
    /// <summary>
    /// The cleansing worker and what it needs besides the event log (<c>AddEventLog</c>) and the lake
    /// (<c>AddLake</c>): validated <see cref="CleansingOptions"/> from section "Cleansing" and the
    /// <see cref="CleansingProgress"/> singleton. With a control bus (<c>AddControlBus</c>) registered, every
    /// committed silver batch is announced as <c>SilverBatchCommitted</c>; without one, nothing is published.
    /// </summary>
    public static IServiceCollection AddCleansing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<CleansingOptions, CleansingOptionsValidator>(configuration, CleansingOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CleansingProgress>();
        services.AddMetrics();
        services.TryAddSingleton<CleansingTelemetry>();
        services.AddHostedService<CleansingWorker>();
        return services;
    }
}
