using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog;

/// <summary>
/// The "EventLog" configuration section: which backend carries the event log and its shape.
/// Environment variables use double underscores, e.g. <c>EventLog__Partitions=8</c>.
/// </summary>
public sealed class EventLogOptions
{
    public const string SectionName = "EventLog";

    /// <summary>The backend: "embedded" (a folder on local disk, the default); later "rabbitmq" or "eventhubs".</summary>
    public string Kind { get; set; } = EventLogKinds.Embedded;

    /// <summary>The hub / topic name, default "bank-events".</summary>
    public string Name { get; set; } = "bank-events";

    /// <summary>Partition count, default 8. Fixed once a log exists: reopening with another count fails.</summary>
    public int Partitions { get; set; } = 8;

    /// <summary>Settings of the embedded backend ("EventLog:Embedded").</summary>
    public EmbeddedLogSettings Embedded { get; set; } = new();
}

/// <summary>The "EventLog:Embedded" section.</summary>
public sealed class EmbeddedLogSettings
{
    /// <summary>The log's folder, default "./data/log" (relative to the working directory).</summary>
    public string Directory { get; set; } = "./data/log";

    /// <summary>Size at which a partition starts a new segment file, default 128 MiB.</summary>
    public long SegmentBytes { get; set; } = EventLogLimits.DefaultSegmentBytes;

    /// <summary>How long records are kept, default 7 days. Whole sealed segments are deleted once their newest record is older.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Durability of an acknowledged append. false (default): <c>AppendAsync</c> returns once the
    /// batch is written to the operating system: it survives the process crashing or being killed
    /// (SIGKILL), not a power loss or kernel crash. true: it also waits for fsync of the segment, so
    /// acknowledged batches survive power loss, at the cost of one disk flush per partition per append.
    /// </summary>
    public bool FsyncOnAppend { get; set; }
}

public static class EventLogKinds
{
    public const string Embedded = "embedded";
    public const string RabbitMq = "rabbitmq";
    public const string EventHubs = "eventhubs";
}

/// <summary>Ranges shared by configuration validation and the embedded factory.</summary>
public static class EventLogLimits
{
    public const int MinPartitions = 1;
    public const int MaxPartitions = 1024;
    public const long DefaultSegmentBytes = 128L * 1024 * 1024;
    public const long MinSegmentBytes = 4 * 1024;
    public const long MaxSegmentBytes = 16L * 1024 * 1024 * 1024;
    public const int MaxNameLength = 200;
}

/// <summary>
/// A backend able to build the <see cref="IEventLog"/> for <c>EventLog:Kind</c> = <see cref="Kind"/>.
/// The embedded one is built in; the RabbitMQ and Event Hubs adapters register theirs as singletons
/// beside <see cref="EventLogServiceCollectionExtensions.AddEventLog"/>.
/// </summary>
public interface IEventLogBackend
{
    string Kind { get; }

    IEventLog Create(EventLogOptions options, IServiceProvider services);
}

/// <summary>Checks the "EventLog" section at start-up; every failure names the option and the fix.</summary>
public sealed partial class EventLogOptionsValidator(IEnumerable<IEventLogBackend> backends) : IValidateOptions<EventLogOptions>
{
    public ValidateOptionsResult Validate(string? name, EventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var kinds = backends.Select(b => b.Kind).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (!kinds.Contains(options.Kind ?? string.Empty, StringComparer.OrdinalIgnoreCase))
        {
            failures.Add(
                $"EventLog:Kind must be one of {string.Join(", ", kinds)} (got '{options.Kind}'). " +
                $"Set EventLog__Kind to one of them{(kinds.Count == 1 ? string.Empty : ", and register the backend's adapter")}.");
        }

        failures.AddRange(CheckCommon(options.Name, options.Partitions));
        if (string.Equals(options.Kind, EventLogKinds.Embedded, StringComparison.OrdinalIgnoreCase))
        {
            var embedded = options.Embedded ?? new EmbeddedLogSettings();
            failures.AddRange(CheckEmbedded(embedded.Directory, embedded.SegmentBytes, embedded.Retention));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static IEnumerable<string> CheckCommon(string? name, int partitions)
    {
        if (string.IsNullOrEmpty(name) || name.Length > EventLogLimits.MaxNameLength || !NamePattern().IsMatch(name))
        {
            yield return
                $"EventLog:Name must be 1-{EventLogLimits.MaxNameLength} letters, digits, '.', '_' or '-', starting with a letter or digit (got '{name}'). " +
                "Set EventLog__Name, e.g. to bank-events.";
        }

        if (partitions is < EventLogLimits.MinPartitions or > EventLogLimits.MaxPartitions)
        {
            yield return
                $"EventLog:Partitions must be between {EventLogLimits.MinPartitions} and {EventLogLimits.MaxPartitions} (got {partitions}). " +
                "Set EventLog__Partitions or --partitions to a positive number.";
        }
    }

    internal static IEnumerable<string> CheckEmbedded(string? directory, long segmentBytes, TimeSpan retention)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            yield return "EventLog:Embedded:Directory must name a folder (got an empty value). Set EventLog__Embedded__Directory or --data, e.g. to ./data/log.";
        }

        if (segmentBytes is < EventLogLimits.MinSegmentBytes or > EventLogLimits.MaxSegmentBytes)
        {
            yield return string.Create(
                CultureInfo.InvariantCulture,
                $"EventLog:Embedded:SegmentBytes must be between {EventLogLimits.MinSegmentBytes} and {EventLogLimits.MaxSegmentBytes} (got {segmentBytes}). " +
                $"Set EventLog__Embedded__SegmentBytes, e.g. to {EventLogLimits.DefaultSegmentBytes} (128 MiB).");
        }

        if (retention <= TimeSpan.Zero)
        {
            yield return
                $"EventLog:Embedded:Retention must be a positive duration (got {retention}). " +
                "Set EventLog__Embedded__Retention as days.hours:minutes:seconds, e.g. 7.00:00:00.";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
