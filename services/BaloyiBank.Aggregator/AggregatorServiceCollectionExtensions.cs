using BaloyiBank.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BaloyiBank.Aggregator;

public static class AggregatorServiceCollectionExtensions
{
    /// <summary>
    /// The aggregator worker and what it needs besides the lake (<c>AddLake</c>): validated
    /// <see cref="AggregatorOptions"/> from section "Aggregator", the wake-up signal, progress and metrics. To be
    /// woken by silver commits and to publish <c>GoldCommitted</c>, register the control bus with the consumer:
    /// <c>services.AddControlBus(configuration, bus => bus.AddAggregatorConsumers())</c>; without a bus the worker
    /// polls silver every <see cref="AggregatorOptions.PollInterval"/>.
    /// </summary>
    public static IServiceCollection AddAggregator(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<AggregatorOptions, AggregatorOptionsValidator>(configuration, AggregatorOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AggregatorSignal>();
        services.TryAddSingleton<AggregatorProgress>();
        services.TryAddSingleton(sp => new AggregatorMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService<AggregatorWorker>();
        return services;
    }

    /// <summary>Adds the aggregator's consumer of <c>SilverBatchCommitted</c> to the control bus.</summary>
    public static IBusRegistrationConfigurator AddAggregatorConsumers(this IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<SilverBatchCommittedConsumer>();
        return bus;
    }
}
