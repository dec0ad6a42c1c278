using System.CommandLine;
using System.Text.Json;
using Azure.Messaging.EventHubs;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.EventHubs;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>--event-log</c>: which log a run writes and reads. <c>embedded</c> (default, <c>&lt;data&gt;/log</c>),
/// <c>amqp://user:password@host:port/</c> (RabbitMQ streams), <c>eventhubs:&lt;connection string&gt;</c> (Azure Event Hubs
/// through Azure.Messaging.EventHubs; an EntityPath names the hub) or <c>eventhubs://&lt;ns&gt;.servicebus.windows.net[/hub]</c>
/// (DefaultAzureCredential). Secrets in the value are never echoed.
/// </summary>
internal sealed record EventLogChoice(string Kind, IReadOnlyDictionary<string, string?> Settings, string Location)
{
    public const string Fix = "Fix: pass embedded, amqp://user:password@host:5672/, eventhubs:Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…[;EntityPath=<hub>] or eventhubs://<ns>.servicebus.windows.net/<hub>.";

    /// <summary>The record of the log a run used, kept in the data folder (no secret) so status and verify read the same log.</summary>
    public const string RecordFile = "event-log.json";

    public static readonly EventLogChoice Embedded = new(EventLogKinds.Embedded, new Dictionary<string, string?>(), "");

    public bool IsEmbedded => Kind == EventLogKinds.Embedded;

    public static Option<EventLogChoice?> Option(string description) => new("--event-log")
    {
        Description = description,
        CustomParser = result =>
        {
            if (result.Tokens.Count != 1)
            {
                result.AddError($"--event-log takes one value. {Fix}");
                return null;
            }

            var choice = TryParse(result.Tokens[0].Value, out var problem);
            if (choice is null)
            {
                result.AddError($"--event-log {problem} {Fix}");
            }

            return choice;
        },
    };

    /// <summary>Null with <paramref name="problem"/> (which never quotes a secret) when the value is not a log.</summary>
    public static EventLogChoice? TryParse(string text, out string problem)
    {
        problem = "";
        if (text == EventLogKinds.Embedded)
        {
            return Embedded;
        }

        if (text.StartsWith("amqp://", StringComparison.Ordinal) || text.StartsWith("amqps://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                problem = $"'{UriMasking.Mask(text)}' is not a valid amqp:// URI.";
                return null;
            }

            return new(EventLogKinds.RabbitMq, new Dictionary<string, string?> { ["EventLog:RabbitMq:Uri"] = text }, $"RabbitMQ {UriMasking.Mask(text)}");
        }

        if (text.StartsWith("eventhubs://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || !uri.Host.Contains('.', StringComparison.Ordinal) || !uri.IsDefaultPort)
            {
                problem = $"'{text}' is not eventhubs://<namespace>.servicebus.windows.net[/<hub>].";
                return null;
            }

            var settings = new Dictionary<string, string?> { ["EventLog:EventHubs:FullyQualifiedNamespace"] = uri.Host };
            if (uri.AbsolutePath.Trim('/') is { Length: > 0 } hub)
            {
                settings["EventLog:Name"] = hub;
            }

            return new(EventLogKinds.EventHubs, settings, $"Event Hubs {uri.Host} (DefaultAzureCredential)");
        }

        if (text.StartsWith("eventhubs:", StringComparison.OrdinalIgnoreCase))
        {
            var connectionString = text["eventhubs:".Length..];
            try
            {
                var properties = EventHubsConnectionStringProperties.Parse(connectionString);
                if (properties.Endpoint is null || (string.IsNullOrEmpty(properties.SharedAccessKey) && string.IsNullOrEmpty(properties.SharedAccessSignature)))
                {
                    problem = "eventhubs:… needs a connection string with Endpoint=sb://<ns>.servicebus.windows.net/ and SharedAccessKeyName + SharedAccessKey (value not shown).";
                    return null;
                }

                var settings = new Dictionary<string, string?> { ["EventLog:EventHubs:ConnectionString"] = connectionString };
                if (properties.EventHubName is { Length: > 0 } hub)
                {
                    settings["EventLog:Name"] = hub;
                }

                return new(EventLogKinds.EventHubs, settings, $"Event Hubs {properties.Endpoint?.Authority}");
            }
            catch (FormatException)
            {
                problem = "eventhubs:… is not followed by an Event Hubs connection string (value not shown).";
                return null;
            }
        }

        problem = text.Contains('=', StringComparison.Ordinal) ? "is not a known event log (value not shown: it may hold a key)." : $"'{text}' is not a known event log.";
        return null;
    }

    /// <summary>The configuration that selects this log (and the hub or topic name it fixes, if any).</summary>
    public Dictionary<string, string?> Overrides() =>
        new(Settings) { ["EventLog:Kind"] = Kind };

    /// <summary>Writes what a later status or verify needs to find the log again, without its secret.</summary>
    public async Task RecordAsync(string dataDirectory, string name, int partitions)
    {
        var record = new Record(Kind, name, partitions, Location, Settings.GetValueOrDefault("EventLog:EventHubs:FullyQualifiedNamespace"));
        await File.WriteAllTextAsync(Path.Combine(dataDirectory, RecordFile), JsonSerializer.Serialize(record, RecordJson));
    }

    /// <summary>What a data folder's earlier run used: its record, or embedded (before records existed, or never anything else).</summary>
    public static Record? ReadRecord(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, RecordFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<Record>(File.ReadAllText(path), RecordJson) : null;
    }

    /// <summary>
    /// The log of a data folder for status and verify: its record's kind and name, connected with <paramref name="given"/>
    /// (the same --event-log the run had) or, for an Event Hubs namespace, the recorded namespace. Null with a problem when
    /// the secret is needed and not given, or the given log is not the recorded one.
    /// </summary>
    public static ServiceProvider? OpenRecorded(Record record, EventLogChoice? given, out string problem)
    {
        problem = "";
        var settings = new Dictionary<string, string?>
        {
            ["EventLog:Kind"] = record.Kind,
            ["EventLog:Name"] = record.Name,
            ["EventLog:Partitions"] = record.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (given is not null && given.Kind != record.Kind)
        {
            problem = $"This data folder's log is {record.Kind} ({record.Location}), not {given.Kind}. Fix: pass the --event-log the run used.";
            return null;
        }

        if (given is not null)
        {
            foreach (var (key, value) in given.Settings)
            {
                settings[key] = value;
            }

            settings["EventLog:Name"] = record.Name;
        }
        else if (record.FullyQualifiedNamespace is { Length: > 0 } ns)
        {
            settings["EventLog:EventHubs:FullyQualifiedNamespace"] = ns;
        }
        else
        {
            problem = $"This data folder's log is {record.Kind}: '{record.Name}' at {record.Location}, whose secret is not kept in the folder. Fix: pass the same --event-log the run used.";
            return null;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventLog(configuration).AddRabbitMqEventLog(configuration).AddKafkaEventLog(configuration).AddEventHubsEventLog(configuration);
        return services.BuildServiceProvider();
    }

    private static readonly JsonSerializerOptions RecordJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The contents of <see cref="RecordFile"/>.</summary>
    internal sealed record Record(string Kind, string Name, int Partitions, string Location, string? FullyQualifiedNamespace);
}
