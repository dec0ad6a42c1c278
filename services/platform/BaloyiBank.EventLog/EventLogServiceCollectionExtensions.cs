using BaloyiBank.EventLog.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog;

public static class EventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="EventLogOptions"/> (bound from the "EventLog" section of
    /// <paramref name="configuration"/>, validated at start-up) and <see cref="IEventLog"/> as a
    /// singleton built by the backend that <c>EventLog:Kind</c> names. Uses the registered
    /// <see cref="TimeProvider"/> (the system clock unless one is registered).
    /// </summary>
    public static IServiceCollection AddEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Accept the root configuration or the "EventLog" section itself.
        var section = configuration is IConfigurationSection { Key: EventLogOptions.SectionName } given
            ? given
            : configuration.GetSection(EventLogOptions.SectionName);
        services.AddOptions<EventLogOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EventLogOptions>, EventLogOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventLogBackend, EmbeddedEventLogBackend>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<EventLogOptions>>().Value;
            var backend = sp.GetServices<IEventLogBackend>().LastOrDefault(b => string.Equals(b.Kind, options.Kind, StringComparison.OrdinalIgnoreCase))
                ?? throw new EventLogConfigurationException($"EventLog:Kind is '{options.Kind}' but no backend of that kind is registered. Set EventLog__Kind=embedded or register the adapter.");
            return backend.Create(options, sp);
        });
        return services;
    }
}

/// <summary>Builds the embedded folder log from the "EventLog" options.</summary>
internal sealed class EmbeddedEventLogBackend : IEventLogBackend
{
    public string Kind => EventLogKinds.Embedded;

    public IEventLog Create(EventLogOptions options, IServiceProvider services) =>
        EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = options.Embedded.Directory,
            Name = options.Name,
            Partitions = options.Partitions,
            SegmentBytes = options.Embedded.SegmentBytes,
            Retention = options.Embedded.Retention,
            FsyncOnAppend = options.Embedded.FsyncOnAppend,
            TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System,
            Logger = services.GetService<ILoggerFactory>()?.CreateLogger<EmbeddedEventLog>(),
        });
}
