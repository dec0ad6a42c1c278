using BaloyiBank.ServiceDefaults;
using MassTransit;
using MassTransit.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus;

/// <summary>Names the tracer and meter must listen to for the control bus's spans and metrics.</summary>
public static class ControlBusTelemetry
{
    /// <summary>MassTransit 8's ActivitySource and Meter name; its spans carry W3C trace context in message headers.</summary>
    public const string SourceName = DiagnosticHeaders.DefaultListenerName;
}

public static class ControlBusServiceCollectionExtensions
{
    /// <summary>
    /// Adds the control bus (MassTransit) as configured in section "Bus": the transport, message retry
    /// (immediate, then spaced, then the error queue and a published <c>Fault&lt;T&gt;</c>), and one
    /// kebab-case endpoint per consumer added by <paramref name="addConsumers"/>. Services publish with
    /// <see cref="IPublishEndpoint"/>. The bus starts and stops with the host.
    /// </summary>
    public static IServiceCollection AddControlBus(
        this IServiceCollection services,
        IConfiguration configuration,
        Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedOptions<BusOptions, BusOptionsValidator>(configuration, BusOptions.SectionName);
        services.AddOptions<MassTransitHostOptions>().Configure(o =>
        {
            // Start-up fails loudly when the bus cannot start, rather than publishing into the void.
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });

        var prefix = configuration[$"{BusOptions.SectionName}:{nameof(BusOptions.EndpointPrefix)}"] ?? "";
        services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(prefix, includeNamespace: false));
            addConsumers?.Invoke(bus);

            // Every Kind but inmemory is rejected by BusOptionsValidator before the bus is built.
            bus.UsingInMemory((context, transport) =>
            {
                var options = context.GetRequiredService<IOptions<BusOptions>>().Value;
                transport.UseMessageRetry(retry => ConfigureRetry(retry, options));
                transport.ConfigureEndpoints(context);
            });
        });
        return services;
    }

    private static void ConfigureRetry(IRetryConfigurator retry, BusOptions options)
    {
        TimeSpan[] intervals =
        [
            .. Enumerable.Repeat(TimeSpan.Zero, options.ImmediateRetries),
            .. Enumerable.Repeat(options.RetryInterval, options.IntervalRetries),
        ];
        if (intervals.Length == 0)
        {
            retry.None();
        }
        else
        {
            retry.Intervals(intervals);
        }
    }
}
