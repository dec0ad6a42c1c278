using System.Reflection;
using System.Security.Authentication;
using BaloyiBank.ServiceDefaults;
using MassTransit;
using MassTransit.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus;

/// <summary>Names the tracer and meter must listen to for the control bus's spans and metrics.</summary>
public static class ControlBusTelemetry
{
    /// <summary>MassTransit 8's ActivitySource and Meter name; its spans carry W3C trace context in message headers.</summary>
    public const string SourceName = DiagnosticHeaders.DefaultListenerName;
}

/// <summary>The bus's entry in the host's health checks.</summary>
public static class ControlBusHealth
{
    /// <summary>
    /// The name MassTransit gives its health check of the default bus (tags "ready" and "masstransit"): Healthy once
    /// every endpoint is connected and consuming, Degraded ("Degraded Endpoints: …") while the broker is out of reach,
    /// Unhealthy before the bus has started. ASP.NET Core's health endpoints answer 200 for Degraded unless told otherwise.
    /// </summary>
    public const string CheckName = "masstransit-bus";

    /// <summary>The tag of MassTransit's check besides "ready" (the readiness tag every service's /health uses).</summary>
    public const string Tag = "masstransit";
}

public static class ControlBusServiceCollectionExtensions
{
    /// <summary>
    /// Adds the control bus (MassTransit) as configured in section "Bus": the transport ("inmemory" or "rabbitmq"),
    /// message retry (immediate, then spaced, then the error queue and a published <c>Fault&lt;T&gt;</c>), and one
    /// durable, kebab-case endpoint per consumer added by <paramref name="addConsumers"/>. Services publish with
    /// <see cref="IPublishEndpoint"/>. The bus starts and stops with the host, and its health check
    /// (<see cref="ControlBusHealth.CheckName"/>) joins the host's.
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
            // Start-up fails loudly when the bus cannot start, rather than publishing into the void. A RabbitMQ broker
            // that is out of reach is not a failure: MassTransit retries the connection (logged) and start-up waits.
            o.WaitUntilStarted = true;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        services.AddReceiveEndpointObserver<ControlBusEndpointLog>();
        // Before AddMassTransit: its hosted service builds the bus, and this one must be resolved first.
        services.AddHostedService<ControlBusLogContext>();

        // The transport is chosen at registration: the options validator rejects an unknown Kind at start-up,
        // before the bus is built, so anything but "rabbitmq" here means the in-memory default.
        var section = configuration.GetSection(BusOptions.SectionName);
        var prefix = section[nameof(BusOptions.EndpointPrefix)] ?? "";
        var rabbitMq = string.Equals(section[nameof(BusOptions.Kind)], BusOptions.RabbitMqKind, StringComparison.OrdinalIgnoreCase);
        services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(prefix, includeNamespace: false));
            addConsumers?.Invoke(bus);
            if (rabbitMq)
            {
                bus.UsingRabbitMq((context, transport) =>
                {
                    var options = context.GetRequiredService<IOptions<BusOptions>>().Value;
                    ConfigureRabbitMq(transport, options, context.GetService<ILoggerFactory>());
                    transport.UseMessageRetry(retry => ConfigureRetry(retry, options));
                    transport.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, transport) =>
                {
                    var options = context.GetRequiredService<IOptions<BusOptions>>().Value;
                    transport.UseMessageRetry(retry => ConfigureRetry(retry, options));
                    transport.ConfigureEndpoints(context);
                });
            }
        });
        return services;
    }

    private static void ConfigureRabbitMq(IRabbitMqBusFactoryConfigurator transport, BusOptions options, ILoggerFactory? loggers)
    {
        var rabbit = options.RabbitMq;
        var broker = rabbit.Resolve();
        // Shown in the broker's connection list, so an operator can tell the services apart.
        var connectionName = Assembly.GetEntryAssembly()?.GetName().Name ?? "baloyi";
        transport.Host(broker.Host, checked((ushort)broker.Port), broker.VirtualHost, connectionName, host =>
        {
            host.Username(broker.Username);
            host.Password(broker.Password);
            host.Heartbeat(rabbit.Heartbeat);
            host.PublisherConfirmation = true;
            if (broker.UseSsl)
            {
                host.UseSsl(ssl =>
                {
                    ssl.ServerName = broker.Host;
                    ssl.Protocol = SslProtocols.Tls12 | SslProtocols.Tls13;
                });
            }
        });
        // Consumer endpoints keep MassTransit's defaults: durable queues and exchanges, persistent messages, no
        // auto-delete (set here, these would apply to the bus's own temporary queue instead).
        transport.PrefetchCount = rabbit.PrefetchCount;
        ControlBusLog.UsingRabbitMq((loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger(ControlBusLog.Category),
            broker.ToString(), options.EndpointPrefix);
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
