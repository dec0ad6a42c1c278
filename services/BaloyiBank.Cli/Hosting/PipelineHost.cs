using BaloyiBank.Aggregator;
using BaloyiBank.Bus;
using BaloyiBank.EventLog.EventHubs;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.Lake.Blob;
using BaloyiBank.Sink;
using BaloyiBank.Cleansing;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Hosting;

/// <summary>
/// The local host: every service that exists, in one process, on embedded defaults. The same
/// registrations (<c>AddEventLog</c>, <c>AddGenerator</c>, <c>AddLake</c>, <c>AddControlBus</c>,
/// <c>AddCleansing</c>, <c>AddAggregator</c>, <c>AddSink</c>) are what each service's own Program uses.
/// </summary>
internal static class PipelineHost
{
    public static IHost Build(IReadOnlyDictionary<string, string?> overrides, LogLevel consoleLevel) =>
        Build(overrides, consoleLevel, PipelineParts.All);

    /// <summary>A host with only <paramref name="parts"/> (benchmarks measure one service at a time); <paramref name="configure"/> runs last.</summary>
    public static IHost Build(IReadOnlyDictionary<string, string?> overrides, LogLevel consoleLevel, PipelineParts parts, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "baloyi",
        });
        // Flags win over appsettings.json and environment variables.
        builder.Configuration.AddInMemoryCollection(overrides);
        if (parts.HasFlag(PipelineParts.Cleansing))
        {
            builder.Configuration.AddInMemoryCollection(EmbeddedDefaults(builder.Configuration));
        }

        builder.AddServiceDefaults("baloyi");
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(level => level >= consoleLevel);
        builder.Services.AddEventLog(builder.Configuration).AddRabbitMqEventLog(builder.Configuration).AddKafkaEventLog(builder.Configuration).AddEventHubsEventLog(builder.Configuration);
        if (parts.HasFlag(PipelineParts.Generator))
        {
            builder.Services.AddGenerator(builder.Configuration);
        }

        if ((parts & (PipelineParts.Cleansing | PipelineParts.Aggregator | PipelineParts.Sink)) != 0)
        {
            builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
            builder.Services.AddControlBus(builder.Configuration, bus =>
            {
                if (parts.HasFlag(PipelineParts.Aggregator))
                {
                    bus.AddAggregatorConsumers();
                }

                if (parts.HasFlag(PipelineParts.Sink))
                {
                    bus.AddSinkConsumers();
                }
            });
        }

        if (parts.HasFlag(PipelineParts.Sink))
        {
            builder.Services.AddSink(builder.Configuration);
        }

        if (parts.HasFlag(PipelineParts.Aggregator))
        {
            builder.Services.AddAggregator(builder.Configuration);
        }

        if (parts.HasFlag(PipelineParts.Cleansing))
        {
            builder.Services.AddCleansing(builder.Configuration);
            if (parts.HasFlag(PipelineParts.Generator))
            {
                builder.Services.AddSingleton<IUpstreamCompletion, GeneratorCompletion>();
            }
        }

        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>
    /// Settings that only make sense with every service in one process, applied only when nothing
    /// configured them: a generator that does not stop the host when done, because cleansing must
    /// first drain the log (the cleansing worker stops the host once the generator finished and its
    /// lag is 0).
    /// </summary>
    private static Dictionary<string, string?> EmbeddedDefaults(ConfigurationManager configuration)
    {
        var defaults = new Dictionary<string, string?>();
        if (string.IsNullOrWhiteSpace(configuration["Generator:StopApplicationWhenDone"]))
        {
            defaults["Generator:StopApplicationWhenDone"] = "false";
        }

        if (string.IsNullOrWhiteSpace(configuration["Sink:Interval"]) && string.IsNullOrWhiteSpace(configuration["Sink:Schedule"]))
        {
            // A run is watched by a person: load every few seconds rather than the service's minute.
            defaults["Sink:Interval"] = "00:00:03";
        }

        return defaults;
    }

    /// <summary>The generator as cleansing's upstream: complete once it stopped (limit reached, cancelled or failed).</summary>
    private sealed class GeneratorCompletion(GeneratorProgress progress) : IUpstreamCompletion
    {
        public bool IsComplete => progress.IsFinished;
    }
}

/// <summary>Which services a local host runs.</summary>
[Flags]
internal enum PipelineParts
{
    /// <summary>Only the event log (backfill).</summary>
    None = 0,
    Generator = 1,
    Cleansing = 2,
    Aggregator = 4,
    Sink = 8,
    All = Generator | Cleansing | Aggregator | Sink,
}
