using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.EventHubs;

public static class EventHubsEventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Event Hubs backend (<c>EventLog:Kind = eventhubs</c>, Azure.Messaging.EventHubs) beside
    /// <see cref="EventLogServiceCollectionExtensions.AddEventLog"/>: its options bound from "EventLog:EventHubs" of
    /// <paramref name="configuration"/> (the root configuration or the "EventLog" section), validated at start-up when
    /// that kind is chosen. A <see cref="TokenCredential"/> registered in the container is used with a namespace;
    /// otherwise the one <c>Credential</c> names is built.
    /// </summary>
    public static IServiceCollection AddEventHubsEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration is IConfigurationSection { Key: EventLogOptions.SectionName } eventLog
            ? eventLog.GetSection("EventHubs")
            : configuration.GetSection(EventHubsEventLogOptions.SectionName);
        services.AddOptions<EventHubsEventLogOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventHubsEventLogOptions>, EventHubsEventLogOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventLogBackend, EventHubsEventLogBackend>());
        return services;
    }
}

/// <summary>Builds the Event Hubs log from the "EventLog" and "EventLog:EventHubs" options.</summary>
internal sealed class EventHubsEventLogBackend : IEventLogBackend
{
    public string Kind => EventLogKinds.EventHubs;

    public IEventLog Create(EventLogOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        return EventHubsEventLog.Create(
            options.Name,
            options.Partitions,
            services.GetRequiredService<IOptions<EventHubsEventLogOptions>>().Value,
            services.GetService<TokenCredential>());
    }
}
