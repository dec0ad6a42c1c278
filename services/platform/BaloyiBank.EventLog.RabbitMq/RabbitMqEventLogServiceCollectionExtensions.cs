using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.RabbitMq;

public static class RabbitMqEventLogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the RabbitMQ streams backend (<c>EventLog:Kind = rabbitmq</c>) beside
    /// <see cref="EventLogServiceCollectionExtensions.AddEventLog"/>: its options bound from
    /// "EventLog:RabbitMq" of <paramref name="configuration"/> (the root configuration or the
    /// "EventLog" section), validated at start-up when that kind is chosen.
    /// </summary>
    public static IServiceCollection AddRabbitMqEventLog(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration is IConfigurationSection { Key: EventLogOptions.SectionName } eventLog
            ? eventLog.GetSection("RabbitMq")
            : configuration.GetSection(RabbitMqEventLogOptions.SectionName);
        services.AddOptions<RabbitMqEventLogOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqEventLogOptions>, RabbitMqEventLogOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventLogBackend, RabbitMqEventLogBackend>());
        return services;
    }
}

/// <summary>Builds the RabbitMQ streams log from the "EventLog" and "EventLog:RabbitMq" options.</summary>
internal sealed class RabbitMqEventLogBackend : IEventLogBackend
{
    public string Kind => EventLogKinds.RabbitMq;

    public IEventLog Create(EventLogOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        return RabbitMqEventLog.Create(
            options.Name,
            options.Partitions,
            services.GetRequiredService<IOptions<RabbitMqEventLogOptions>>().Value,
            services.GetService<ILoggerFactory>(),
            services.GetService<TimeProvider>());
    }
}
