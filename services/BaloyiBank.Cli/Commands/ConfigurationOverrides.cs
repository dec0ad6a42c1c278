using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using BaloyiBank.Aggregator;
using BaloyiBank.Bus;
using BaloyiBank.Cleansing;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.EventHubs;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Configuration;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>--set Section:Key=value</c>: configuration overrides, checked while parsing against the options class that binds
/// the section, so a typo or a malformed value is a one-line error before any work starts, not a failure minutes in.
/// </summary>
internal static partial class ConfigurationOverrides
{
    // The sections the services bind, each with a fresh options object; the longest matching section wins.
    private static readonly (string Section, Func<object> Create)[] Sections =
    [
        (CleansingOptions.SectionName, () => new CleansingOptions()),
        (GeneratorOptions.SectionName, () => new GeneratorOptions()),
        (AggregatorOptions.SectionName, () => new AggregatorOptions()),
        (SinkOptions.SectionName, () => new SinkOptions()),
        (EventLogOptions.SectionName, () => new EventLogOptions()),
        (RabbitMqEventLogOptions.SectionName, () => new RabbitMqEventLogOptions()),
        (KafkaEventLogOptions.KafkaSectionName, () => new KafkaEventLogOptions()),
        (EventHubsEventLogOptions.SectionName, () => new EventHubsEventLogOptions()),
        (LakeOptions.SectionName, () => new LakeOptions()),
        (BlobLakeOptions.SectionName, () => new BlobLakeOptions()),
        (WarehouseOptions.SectionName, () => new WarehouseOptions()),
        (BusOptions.SectionName, () => new BusOptions()),
        (BusRabbitMqOptions.SectionName, () => new BusRabbitMqOptions()),
        (HealthEndpointOptions.SectionName, () => new HealthEndpointOptions()),
    ];

    [GeneratedRegex(@"^[A-Za-z0-9_]+(?::[A-Za-z0-9_]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyShape();

    public static Option<IReadOnlyDictionary<string, string?>> Create(string description, string example) =>
        new("--set")
        {
            Description = description,
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => new Dictionary<string, string?>(),
            CustomParser = result => Parse(result, example),
        };

    private static Dictionary<string, string?> Parse(ArgumentResult result, string example)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in result.Tokens)
        {
            var pair = token.Value;
            var cut = pair.IndexOf('=', StringComparison.Ordinal);
            if (cut <= 0 || !KeyShape().IsMatch(pair[..cut]))
            {
                result.AddError($"--set '{pair}' is not Section:Key=value. Fix: pass e.g. --set {example}.");
                return overrides;
            }

            var (key, value) = (pair[..cut], pair[(cut + 1)..]);
            if (Check(key, value) is { } problem)
            {
                result.AddError($"--set '{pair}': {problem} Fix: pass e.g. --set {example}.");
                return overrides;
            }

            overrides[key] = value;
        }

        return overrides;
    }

    /// <summary>Null when the options class of the key's section takes the value; else what is wrong. Unknown sections (Logging, …) pass unchecked.</summary>
    private static string? Check(string key, string value)
    {
        var matching = Sections.Where(s => key.StartsWith(s.Section + ":", StringComparison.OrdinalIgnoreCase)).OrderByDescending(s => s.Section.Length).ToList();
        if (matching.Count == 0)
        {
            return null;
        }

        var section = matching[0];

        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build().GetSection(section.Section);
        try
        {
            configuration.Bind(section.Create());
        }
        catch (InvalidOperationException)
        {
            return $"'{value}' is not a valid value for {key}.";
        }

        try
        {
            configuration.Bind(section.Create(), o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException)
        {
            return $"{section.Section} has no setting {key[(section.Section.Length + 1)..]}.";
        }

        return null;
    }
}
