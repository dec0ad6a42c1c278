using Azure.Core;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Warehouse;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Sink;

public static class SinkServiceCollectionExtensions
{
    /// <summary>
    /// The sink worker and what it needs besides the lake (<c>AddLake</c>): validated <see cref="SinkOptions"/> (section
    /// "Sink"), the warehouse (section "Warehouse", <see cref="WarehouseFactory.AddBaloyiWarehouse"/>) unless one is
    /// registered, the wake-up signal, progress and metrics. To be woken by gold commits and to publish
    /// <c>WarehouseLoaded</c>, register the control bus with <c>bus.AddSinkConsumers()</c>.
    /// </summary>
    public static IServiceCollection AddSink(this IServiceCollection services, IConfiguration configuration,
        TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<SinkOptions, SinkOptionsValidator>(configuration, SinkOptions.SectionName);
        services.AddSingleton<IValidateOptions<SinkOptions>, SinkLakeValidator>();
        if (!services.Any(s => s.ServiceType == typeof(IWarehouse)))
        {
            services.AddBaloyiWarehouse(configuration, credential);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SinkSignal>();
        services.TryAddSingleton<SinkProgress>();
        services.TryAddSingleton(sp => new SinkMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService<SinkWorker>();
        return services;
    }

    /// <summary>Adds the sink's consumer of <c>GoldCommitted</c> to the control bus.</summary>
    public static IBusRegistrationConfigurator AddSinkConsumers(this IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<GoldCommittedConsumer>();
        return bus;
    }
}
