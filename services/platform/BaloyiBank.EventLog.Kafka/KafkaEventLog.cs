using System.Diagnostics;
using Azure.Core;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// The event log on a Kafka topic: an event hub through Event Hubs' Kafka endpoint, or a topic of any Kafka cluster.
/// Topic = the log's name, Kafka partitions = the log's partitions, offsets = Kafka offsets. Thread-safe; one instance per
/// log per process.
/// </summary>
/// <remarks>
/// Producers send each event to the partition <see cref="KeyPartitioner"/> gives (not librdkafka's partitioner), so the
/// three backends agree; the producer is idempotent with acks=all. Readers assign their partition themselves and never
/// join a consumer group or commit offsets: consumer progress lives in the lake's commits.
/// </remarks>
public sealed class KafkaEventLog : IEventLog
{
    private static readonly ResiliencePropertyKey<string> OperationKey = new("baloyi.operation");

    private readonly KafkaEventLogOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private readonly object _clientsLock = new();
    private readonly SemaphoreSlim _describeGate = new(1, 1);
    private readonly List<Task>[] _latestReaders;
    private Task? _opened;
    private IProducer<byte[], byte[]>? _producer;
    private volatile bool _producerFailed;
    private IAdminClient? _admin;
    private IConsumer<byte[], byte[]>? _describer;
    private bool _disposed;

    private KafkaEventLog(string kind, string name, int partitions, KafkaEventLogOptions options, ILoggerFactory? loggerFactory, TokenCredential? credential)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        var problems = KafkaEventLogOptionsValidator.Check(options, kind, name).Failures.Concat(CommonChecks(name, partitions)).ToList();
        if (problems.Count > 0)
        {
            throw new EventLogConfigurationException(string.Join(Environment.NewLine, problems));
        }

        Kind = kind.ToLowerInvariant();
        Name = name;
        PartitionCount = partitions;
        _options = options;
        Logger = (ILogger?)loggerFactory?.CreateLogger<KafkaEventLog>() ?? NullLogger.Instance;
        Connection = KafkaConnection.Resolve(options, kind);
        Clients = new KafkaClients(Connection, options, name, Logger, credential) { OnFatal = _ => _producerFailed = true };
        _latestReaders = [.. Enumerable.Range(0, partitions).Select(_ => new List<Task>())];
        var builder = new ResiliencePipelineBuilder();
        if (options.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(KafkaFailures.IsTransient),
                MaxRetryAttempts = options.RetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = args =>
                {
                    KafkaEventLogLog.Retrying(Logger, args.Context.Properties.GetValue(OperationKey, "operation"), Connection.Endpoint,
                        args.AttemptNumber + 1, options.RetryAttempts + 1, args.RetryDelay.TotalMilliseconds, Describe(args.Outcome.Exception));
                    return default;
                },
            });
        }

        _retry = builder.Build();
    }

    /// <summary>eventhubs or kafka.</summary>
    public string Kind { get; }

    /// <summary>The topic (event hub).</summary>
    public string Name { get; }

    public int PartitionCount { get; }

    /// <summary>What the clients connect to; shows no secret.</summary>
    public KafkaConnection Connection { get; }

    internal KafkaClients Clients { get; }

    internal ILogger Logger { get; }

    internal KafkaEventLogOptions Options => _options;

    /// <summary>
    /// A log whose broker work starts with its first operation (a missing topic or a partition-count mismatch surfaces
    /// there as <see cref="EventLogConfigurationException"/>). For DI, where construction is synchronous.
    /// </summary>
    /// <param name="kind">eventhubs (options from EventLog:EventHubs) or kafka (EventLog:Kafka).</param>
    /// <param name="credential">For a namespace with OAUTHBEARER: the token credential; null builds the one the options name.</param>
    public static KafkaEventLog Create(string kind, string name, int partitions, KafkaEventLogOptions options, ILoggerFactory? loggerFactory = null, TokenCredential? credential = null) =>
        new(kind, name, partitions, options, loggerFactory, credential);

    /// <summary>
    /// Opens the log now: loads librdkafka, reads the topic's metadata (with retries), creates the topic when it is missing
    /// and <see cref="KafkaEventLogOptions.CreateTopic"/> allows, and checks its partition count against <paramref name="partitions"/>.
    /// </summary>
    public static async Task<KafkaEventLog> OpenAsync(string kind, string name, int partitions, KafkaEventLogOptions options, ILoggerFactory? loggerFactory = null, TokenCredential? credential = null, CancellationToken cancellationToken = default)
    {
        var log = new KafkaEventLog(kind, name, partitions, options, loggerFactory, credential);
        try
        {
            await log.EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
            return log;
        }
        catch
        {
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _describeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RetryAsync($"describe of topic {Name}", ct => DescribeNow(ct), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _describeGate.Release();
        }
    }

    public IEventLogProducer CreateProducer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new KafkaEventLogProducer(this);
    }

    public IPartitionReader OpenReader(int partition, StartPosition start)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        ArgumentNullException.ThrowIfNull(start);
        return new KafkaPartitionReader(this, partition, start);
    }

    /// <summary>Deletes the topic (plain Kafka, or a namespace that allows it): every event is gone. Used by tests.</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var admin = Admin();
        await RetryAsync($"delete of topic {Name}", ct =>
        {
            try
            {
                admin.DeleteTopicsAsync([Name], new DeleteTopicsOptions { RequestTimeout = _options.RequestTimeout }).GetAwaiter().GetResult();
            }
            catch (DeleteTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.NoError))
            {
                // Already gone.
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
        _opened = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        IProducer<byte[], byte[]>? producer;
        IAdminClient? admin;
        IConsumer<byte[], byte[]>? describer;
        lock (_clientsLock)
        {
            (producer, admin, describer) = (_producer, _admin, _describer);
            (_producer, _admin, _describer) = (null, null, null);
        }

        await Task.Run(() =>
        {
            if (producer is not null)
            {
                // Hand over what is queued; appends already failed or succeeded for their callers.
                producer.Flush(TimeSpan.FromSeconds(5));
                producer.Dispose();
            }

            describer?.Close();
            describer?.Dispose();
            admin?.Dispose();
        }).ConfigureAwait(false);
        _openGate.Dispose();
        _describeGate.Dispose();
    }

    /// <summary>Runs a blocking librdkafka call on the thread pool with retries on transient failures, mapping the final one to the port's exceptions.</summary>
    internal async Task<T> RetryAsync<T>(string operation, Func<CancellationToken, T> action, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OperationKey, operation);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var outcome = await _retry.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    try
                    {
                        var token = ctx.CancellationToken;
                        return Outcome.FromResult(await Task.Run(() => state(token), token).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<T>(ex);
                    }
                },
                context,
                action).ConfigureAwait(false);
            if (outcome.Exception is { } failure)
            {
                if (failure is OperationCanceledException or EventLogConfigurationException or EventLogCorruptionException or ObjectDisposedException)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                var attempts = KafkaFailures.IsTransient(failure) ? _options.RetryAttempts + 1 : 1;
                KafkaEventLogLog.GaveUp(Logger, operation, Connection.Endpoint, attempts, elapsed.TotalSeconds, Describe(failure));
                throw KafkaFailures.Map(failure, operation, Connection, $"({attempts} attempt{(attempts == 1 ? "" : "s")} over {elapsed.TotalSeconds:F1} s)");
            }

            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    internal async Task EnsureOpenAsync(CancellationToken ct)
    {
        if (_opened is { IsCompletedSuccessfully: true })
        {
            return;
        }

        await _openGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_opened is not { IsCompletedSuccessfully: true })
            {
                var version = KafkaNative.LibraryVersion();
                _opened = RetryAsync($"open of topic {Name}", token => OpenNow(version, token), ct);
            }

            await _opened.ConfigureAwait(false);
        }
        finally
        {
            _openGate.Release();
        }
    }

    /// <summary>Takes the topic as checked without asking the broker (tests of the append path against a closed port).</summary>
    internal void AssumeOpenedForTests() => _opened = Task.CompletedTask;

    /// <summary>The log's one librdkafka producer, shared by its <see cref="IEventLogProducer"/>s; rebuilt after a fatal error.</summary>
    internal IProducer<byte[], byte[]> Producer()
    {
        lock (_clientsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_producer is not null && _producerFailed)
            {
                var failed = _producer;
                _producer = null;
                _ = Task.Run(failed.Dispose);
            }

            if (_producer is null)
            {
                _producerFailed = false;
                _producer = Clients.BuildProducer();
            }

            return _producer;
        }
    }

    /// <summary>A Latest reader is resolving its start: appends through this log wait until it has.</summary>
    internal void RegisterLatestReader(int partition, Task resolved)
    {
        lock (_latestReaders[partition])
        {
            _latestReaders[partition].Add(resolved);
        }
    }

    internal async Task WaitForLatestReadersAsync(IEnumerable<int> partitions)
    {
        var pending = new List<Task>();
        foreach (var partition in partitions)
        {
            lock (_latestReaders[partition])
            {
                _latestReaders[partition].RemoveAll(t => t.IsCompleted);
                pending.AddRange(_latestReaders[partition]);
            }
        }

        if (pending.Count > 0)
        {
            // A failed resolution is the reader's problem, reported by its ReadAsync.
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(_options.RequestTimeout)).ConfigureAwait(false);
        }
    }

    private bool OpenNow(string version, CancellationToken ct)
    {
        var admin = Admin();
        var topic = FindTopic(admin);
        if (topic is null)
        {
            if (!_options.CreateTopic)
            {
                throw new EventLogConfigurationException(
                    $"{(Connection.IsEventHubs ? "Event hub" : "Topic")} '{Name}' does not exist at {Connection.Endpoint}. " +
                    $"Fix: create it with {PartitionCount} partitions (EventLog:Partitions){(Connection.IsEventHubs ? ", e.g. az eventhubs eventhub create --namespace-name <ns> --name " + Name + " --partition-count " + PartitionCount : "")}, or set EventLog:Name to an existing one.");
            }

            CreateTopic(admin);
            ct.ThrowIfCancellationRequested();
            topic = FindTopic(admin) ?? throw new KafkaUnavailableException($"Topic '{Name}' was created at {Connection.Endpoint} but its metadata is not visible yet.")
            {
                Code = ErrorCode.Local_WaitCache,
            };
        }

        if (topic.Error.Code != ErrorCode.NoError)
        {
            throw new KafkaException(topic.Error);
        }

        if (topic.Partitions.Count != PartitionCount)
        {
            throw new EventLogConfigurationException(
                $"EventLog:Partitions is {PartitionCount} but {(Connection.IsEventHubs ? "event hub" : "topic")} '{Name}' at {Connection.Endpoint} has {topic.Partitions.Count} partitions; " +
                $"keys map to partitions by count, so they must agree. Fix: set EventLog__Partitions={topic.Partitions.Count}, or use a new {(Connection.IsEventHubs ? "event hub" : "topic")} with {PartitionCount} partitions.");
        }

        KafkaEventLogLog.Opened(Logger, Name, Connection.Endpoint, PartitionCount, version);
        return true;
    }

    private TopicMetadata? FindTopic(IAdminClient admin)
    {
        // All topics: a metadata request naming one topic may auto-create it with the broker's default partition count.
        var metadata = admin.GetMetadata(_options.RequestTimeout);
        return metadata.Topics.FirstOrDefault(t => string.Equals(t.Topic, Name, StringComparison.Ordinal));
    }

    private void CreateTopic(IAdminClient admin)
    {
        try
        {
            admin.CreateTopicsAsync(
                [new TopicSpecification { Name = Name, NumPartitions = PartitionCount, ReplicationFactor = _options.ReplicationFactor }],
                new CreateTopicsOptions { RequestTimeout = _options.RequestTimeout, OperationTimeout = _options.RequestTimeout }).GetAwaiter().GetResult();
            KafkaEventLogLog.TopicCreated(Logger, Name, Connection.Endpoint, PartitionCount);
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
            // Another process created it first; the partition check follows.
        }
        catch (CreateTopicsException e)
        {
            var error = e.Results.First(r => r.Error.Code is not (ErrorCode.TopicAlreadyExists or ErrorCode.NoError)).Error;
            if (KafkaFailures.IsTransient(error.Code))
            {
                throw new KafkaException(error);
            }

            throw new EventLogConfigurationException(
                $"Could not create {(Connection.IsEventHubs ? "event hub" : "topic")} '{Name}' with {PartitionCount} partitions at {Connection.Endpoint}: {error.Code}: {Connection.Redact(error.Reason)}. " +
                $"Fix: create it yourself (Event Hubs: az eventhubs eventhub create --name {Name} --partition-count {PartitionCount}, or Bicep), or grant the right to create topics.",
                e);
        }
    }

    private PartitionInfo[] DescribeNow(CancellationToken ct)
    {
        var consumer = Describer();
        var watermarks = new WatermarkOffsets[PartitionCount];
        for (var p = 0; p < PartitionCount; p++)
        {
            ct.ThrowIfCancellationRequested();
            watermarks[p] = consumer.QueryWatermarkOffsets(new TopicPartition(Name, p), _options.RequestTimeout);
        }

        // The newest record's time: read the record just below each non-empty partition's high watermark.
        var last = new DateTimeOffset?[PartitionCount];
        var wanted = Enumerable.Range(0, PartitionCount).Where(p => watermarks[p].High > watermarks[p].Low).ToList();
        if (wanted.Count > 0)
        {
            consumer.Assign(wanted.Select(p => new TopicPartitionOffset(Name, p, watermarks[p].High.Value - 1)));
            try
            {
                var missing = wanted.ToHashSet();
                var deadline = Stopwatch.GetTimestamp() + (long)(_options.RequestTimeout.TotalSeconds * Stopwatch.Frequency);
                while (missing.Count > 0 && Stopwatch.GetTimestamp() < deadline)
                {
                    ct.ThrowIfCancellationRequested();
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result is null || result.IsPartitionEOF)
                    {
                        if (result is { IsPartitionEOF: true })
                        {
                            missing.Remove(result.Partition.Value);
                        }

                        continue;
                    }

                    // Only the first record counts: later ones were appended after the watermarks were read.
                    if (missing.Remove(result.Partition.Value))
                    {
                        last[result.Partition.Value] = KafkaRecordCodec.EnqueuedAt(result.Message.Timestamp);
                    }
                }
            }
            finally
            {
                consumer.Unassign();
            }
        }

        return [.. Enumerable.Range(0, PartitionCount).Select(p => watermarks[p].High > watermarks[p].Low
            ? new PartitionInfo(p, watermarks[p].Low.Value, watermarks[p].High.Value, last[p])
            : new PartitionInfo(p, Math.Max(0, watermarks[p].High.Value), Math.Max(0, watermarks[p].High.Value), null))];
    }

    private IAdminClient Admin()
    {
        lock (_clientsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _admin ??= Clients.BuildAdmin();
        }
    }

    private IConsumer<byte[], byte[]> Describer()
    {
        lock (_clientsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _describer ??= Clients.BuildConsumer("describe");
        }
    }

    private string Describe(Exception? e) => e is null ? "unknown" : Connection.Redact(e is KafkaException k ? $"{k.Error.Code}: {k.Error.Reason}" : $"{e.GetType().Name}: {e.Message}");

    private static IEnumerable<string> CommonChecks(string name, int partitions)
    {
        var options = new EventLogOptions { Kind = EventLogKinds.EventHubs, Name = name, Partitions = partitions };
        var result = new EventLogOptionsValidator([new KindOnly()]).Validate(null, options);
        return result.Failed ? result.Failures ?? [] : [];
    }

    private sealed class KindOnly : IEventLogBackend
    {
        public string Kind => EventLogKinds.EventHubs;

        public IEventLog Create(EventLogOptions options, IServiceProvider services) => throw new NotSupportedException();
    }
}
