using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.Kafka;

public static class KafkaEventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Kafka backend beside <see cref="EventLogServiceCollectionExtensions.AddEventLog"/>:
    /// <c>EventLog:Kind = kafka</c> (options from "EventLog:Kafka", named options "kafka"), validated at start-up when that
    /// kind is chosen. <paramref name="configuration"/> is the root configuration or the "EventLog" section.
    /// <c>EventLog:Kind = eventhubs</c> is not served here: it is the native Azure.Messaging.EventHubs backend
    /// (BaloyiBank.EventLog.EventHubs, <c>AddEventHubsEventLog</c>).
    /// </summary>
    public static IServiceCollection AddKafkaEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var eventLog = configuration is IConfigurationSection { Key: EventLogOptions.SectionName } given
            ? given
            : configuration.GetSection(EventLogOptions.SectionName);
        services.AddOptions<KafkaEventLogOptions>(KafkaEventLogKinds.Kafka).Bind(eventLog.GetSection("Kafka")).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaEventLogOptions>, KafkaEventLogOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventLogBackend, PlainKafkaEventLogBackend>());
        return services;
    }
}

/// <summary>Builds the log on a plain Kafka cluster from "EventLog" and "EventLog:Kafka".</summary>
internal sealed class PlainKafkaEventLogBackend : IEventLogBackend
{
    public string Kind => KafkaEventLogKinds.Kafka;

    public IEventLog Create(EventLogOptions options, IServiceProvider services) => KafkaEventLogBackends.Create(Kind, options, services);
}

internal static class KafkaEventLogBackends
{
    public static IEventLog Create(string kind, EventLogOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        return KafkaEventLog.Create(
            kind,
            options.Name,
            options.Partitions,
            services.GetRequiredService<IOptionsMonitor<KafkaEventLogOptions>>().Get(kind),
            services.GetService<ILoggerFactory>(),
            services.GetService<TokenCredential>());
    }
}
