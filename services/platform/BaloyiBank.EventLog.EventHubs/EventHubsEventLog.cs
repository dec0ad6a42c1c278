using System.Collections.Concurrent;
using System.Globalization;
using Azure.Core;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// The event log on Azure Event Hubs through Azure.Messaging.EventHubs: one hub, its partitions the log's
/// partitions. Offsets are Event Hubs sequence numbers (dense per partition, from 0 on a new hub, as the Kafka
/// endpoint's offsets are); the service's own byte offsets are not used.
/// </summary>
public sealed class EventHubsEventLog : IEventLog
{
    private readonly EventHubsEventLogOptions _options;
    private readonly EventHubProducerClient _client;
    private readonly SemaphoreSlim[] _partitionGates;
    private readonly ConcurrentDictionary<int, ConcurrentBag<Task>> _latestReaders = new();
    private readonly TokenCredential? _credential;
    private readonly Lock _shapeLock = new();
    private Task? _shape;

    private EventHubsEventLog(string name, int partitionCount, EventHubsEventLogOptions options, TokenCredential? credential)
    {
        Name = name;
        PartitionCount = partitionCount;
        _options = options;
        var clientOptions = new EventHubProducerClientOptions { RetryOptions = options.RetryOptions() };
        _credential = string.IsNullOrWhiteSpace(options.ConnectionString) ? credential ?? options.CreateCredential() : null;
        _client = _credential is not null
            ? new EventHubProducerClient(options.FullyQualifiedNamespace!.Trim(), name, _credential, clientOptions)
            : new EventHubProducerClient(options.ConnectionString, name, clientOptions);
        _partitionGates = [.. Enumerable.Range(0, partitionCount).Select(_ => new SemaphoreSlim(1, 1))];
    }

    public string Name { get; }

    public int PartitionCount { get; }

    internal EventHubProducerClient Client => _client;

    /// <summary>
    /// Connects to the hub <paramref name="name"/> and checks it has <paramref name="partitionCount"/> partitions
    /// (an Event Hub's partition count is fixed by whoever created it; this log never creates hubs).
    /// </summary>
    public static async Task<EventHubsEventLog> OpenAsync(string? name, int partitionCount, EventHubsEventLogOptions options, TokenCredential? credential = null, CancellationToken cancellationToken = default)
    {
        var log = Create(name, partitionCount, options, credential);
        try
        {
            await log.EnsureShapeAsync(cancellationToken).ConfigureAwait(false);
            return log;
        }
        catch
        {
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The log without touching the network (for dependency injection): the settings are checked now, the hub's
    /// partition count on first use (describe, append or read), which then fails with the fix if it differs.
    /// </summary>
    public static EventHubsEventLog Create(string? name, int partitionCount, EventHubsEventLogOptions options, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(name) || name.Length > EventLogLimits.MaxNameLength)
        {
            failures.Add($"EventLog:Name must be the Event Hub's name, 1-{EventLogLimits.MaxNameLength} characters (got '{name}'). Fix: set EventLog__Name.");
        }

        if (partitionCount is < EventLogLimits.MinPartitions or > EventLogLimits.MaxPartitions)
        {
            failures.Add($"EventLog:Partitions must be {EventLogLimits.MinPartitions}-{EventLogLimits.MaxPartitions}, the hub's partition count (got {partitionCount}). Fix: set EventLog__Partitions.");
        }

        failures.AddRange(options.Validate(name ?? string.Empty));
        if (failures.Count > 0)
        {
            throw new EventLogConfigurationException(string.Join(Environment.NewLine, failures));
        }

        return new EventHubsEventLog(name!, partitionCount, options, credential);
    }

    /// <summary>Checks once that the hub has this log's partitions; a failed check other than a wrong shape is tried again on the next use.</summary>
    internal Task EnsureShapeAsync(CancellationToken cancellationToken)
    {
        lock (_shapeLock)
        {
            if (_shape is null || _shape.IsCanceled || (_shape.IsFaulted && _shape.Exception?.InnerException is not EventLogConfigurationException))
            {
                _shape = CheckShapeAsync();
            }

            return _shape.WaitAsync(cancellationToken);
        }
    }

    private async Task CheckShapeAsync()
    {
        var hub = await _client.GetEventHubPropertiesAsync(CancellationToken.None).ConfigureAwait(false);
        var expected = Enumerable.Range(0, PartitionCount).Select(p => p.ToString(CultureInfo.InvariantCulture));
        if (!hub.PartitionIds.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal)))
        {
            throw new EventLogConfigurationException(
                $"Event Hub '{Name}' has partitions [{string.Join(", ", hub.PartitionIds)}] but EventLog:Partitions is {PartitionCount}. " +
                $"Fix: set EventLog__Partitions={hub.PartitionIds.Length} (a hub's partition count is set when it is created).");
        }
    }

    public async Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default)
    {
        await EnsureShapeAsync(cancellationToken).ConfigureAwait(false);
        var infos = await Task.WhenAll(Enumerable.Range(0, PartitionCount).Select(async p =>
        {
            var properties = await _client.GetPartitionPropertiesAsync(PartitionId(p), cancellationToken).ConfigureAwait(false);
            var next = properties.LastEnqueuedSequenceNumber + 1;
            return properties.IsEmpty
                ? new PartitionInfo(p, Math.Max(next, properties.BeginningSequenceNumber), Math.Max(next, properties.BeginningSequenceNumber), null)
                : new PartitionInfo(p, properties.BeginningSequenceNumber, next, properties.LastEnqueuedTime.ToUniversalTime());
        })).ConfigureAwait(false);
        return infos;
    }

    public IEventLogProducer CreateProducer() => new EventHubsEventLogProducer(this);

    public IPartitionReader OpenReader(int partition, StartPosition start)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        ArgumentNullException.ThrowIfNull(start);
        return new EventHubsPartitionReader(this, partition, start);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        foreach (var gate in _partitionGates)
        {
            gate.Dispose();
        }
    }

    internal static string PartitionId(int partition) => partition.ToString(CultureInfo.InvariantCulture);

    internal SemaphoreSlim PartitionGate(int partition) => _partitionGates[partition];

    internal PartitionReceiver CreateReceiver(int partition, EventPosition position)
    {
        var receiverOptions = new PartitionReceiverOptions { PrefetchCount = _options.PrefetchCount, RetryOptions = _options.RetryOptions() };
        return _credential is not null
            ? new PartitionReceiver(_options.ConsumerGroup, PartitionId(partition), position, _options.FullyQualifiedNamespace!.Trim(), Name, _credential, receiverOptions)
            : new PartitionReceiver(_options.ConsumerGroup, PartitionId(partition), position, _options.ConnectionString, Name, receiverOptions);
    }

    /// <summary>A Latest reader is resolving its start: this log's appends to the partition wait until it has.</summary>
    internal void RegisterLatestReader(int partition, Task resolved) => _latestReaders.GetOrAdd(partition, _ => []).Add(resolved);

    internal async Task WaitForLatestReadersAsync(int partition)
    {
        if (_latestReaders.TryGetValue(partition, out var pending))
        {
            foreach (var task in pending)
            {
                // A reader that failed to resolve reports that itself; appends go on.
                await task.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }
}
