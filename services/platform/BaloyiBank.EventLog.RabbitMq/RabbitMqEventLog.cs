using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// The event log on RabbitMQ streams (AMQP 0.9.1): one stream per partition (<c>name.pN</c>), many
/// events packed per message, offsets dense per partition and equal to what the embedded log gives.
/// Thread-safe; one instance per log per process.
/// </summary>
/// <remarks>
/// Positions: each message is a frame holding events FirstOffset … FirstOffset + Count - 1 (see
/// <see cref="FrameCodec"/>), so an event's offset is derived from the message that holds it. A
/// reader started at an offset or a time bisects the stream's message offsets on the frames'
/// headers (<see cref="StreamPositions"/>) and attaches there with <c>x-stream-offset</c>. Appends
/// are dense and exactly-once across crashes and broker restarts (<see cref="PartitionWriter"/>).
/// </remarks>
public sealed partial class RabbitMqEventLog : IEventLog
{
    private readonly PartitionWriter?[] _writers;
    private readonly object _writersLock = new();
    private readonly List<Task>[] _latestReaders;
    private readonly SemaphoreSlim _openGate = new(1, 1);
    private Task? _opened;
    private bool _disposed;

    private RabbitMqEventLog(string name, int partitions, RabbitMqEventLogOptions options, ILoggerFactory? loggerFactory, TimeProvider? time)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        var problems = RabbitMqEventLogOptionsValidator.Check(options).Failures
            .Concat(EventLogOptionsValidatorChecks.Common(name, partitions))
            .ToList();
        if (problems.Count > 0)
        {
            throw new EventLogConfigurationException(string.Join(Environment.NewLine, problems));
        }

        Logger = (ILogger?)loggerFactory?.CreateLogger<RabbitMqEventLog>() ?? NullLogger.Instance;
        Time = time ?? TimeProvider.System;
        Topology = new StreamTopology(name, partitions, options, Logger);
        Broker = new BrokerConnections(options, $"baloyi-eventlog:{name}:{Environment.ProcessId}", Logger);
        Positions = new StreamPositions(options);
        _writers = new PartitionWriter?[partitions];
        _latestReaders = [.. Enumerable.Range(0, partitions).Select(_ => new List<Task>())];
    }

    public string Name => Topology.Name;

    public int PartitionCount => Topology.Partitions;

    internal StreamTopology Topology { get; }

    internal BrokerConnections Broker { get; }

    internal StreamPositions Positions { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    /// <summary>
    /// A log whose broker work starts with its first operation (a configuration mismatch surfaces
    /// there, as <see cref="EventLogConfigurationException"/>). For DI, where construction is synchronous.
    /// </summary>
    public static RabbitMqEventLog Create(string name, int partitions, RabbitMqEventLogOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null) =>
        new(name, partitions, options, loggerFactory, time);

    /// <summary>
    /// Opens the log now: connects (with retries), creates the streams when the log is new, and
    /// checks the partition count of an existing one.
    /// </summary>
    public static async Task<RabbitMqEventLog> OpenAsync(string name, int partitions, RabbitMqEventLogOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var log = new RabbitMqEventLog(name, partitions, options, loggerFactory, time);
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
        return await Task.WhenAll(Enumerable.Range(0, PartitionCount).Select(p => DescribeAsync(p, cancellationToken))).ConfigureAwait(false);
    }

    public IEventLogProducer CreateProducer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new RabbitMqEventLogProducer(this);
    }

    public IPartitionReader OpenReader(int partition, StartPosition start)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        ArgumentNullException.ThrowIfNull(start);
        return new RabbitMqPartitionReader(this, partition, start);
    }

    /// <summary>Deletes the log's streams (every partition and the manifest) from the broker: all its events are gone.</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var writer in DetachWriters())
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        await Broker.RetryAsync($"delete of log {Name}", async ct =>
        {
            await Topology.DeleteAsync(await Broker.PublishingAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
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
        foreach (var writer in DetachWriters())
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        await Broker.DisposeAsync().ConfigureAwait(false);
        _openGate.Dispose();
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
                _opened = Broker.RetryAsync($"open of log {Name}", async token =>
                {
                    await Topology.EnsureAsync(await Broker.PublishingAsync(token).ConfigureAwait(false), token).ConfigureAwait(false);
                    return true;
                }, ct);
            }

            await _opened.ConfigureAwait(false);
        }
        finally
        {
            _openGate.Release();
        }
    }

    internal PartitionWriter Writer(int partition)
    {
        lock (_writersLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _writers[partition] ??= new PartitionWriter(this, partition, Broker, Positions);
        }
    }

    /// <summary>A Latest reader is attaching: appends to its partition from this log wait until it has.</summary>
    internal void RegisterLatestReader(int partition, Task attached)
    {
        lock (_latestReaders[partition])
        {
            _latestReaders[partition].Add(attached);
        }
    }

    internal async Task WaitForLatestReadersAsync(int partition)
    {
        Task[] pending;
        lock (_latestReaders[partition])
        {
            _latestReaders[partition].RemoveAll(t => t.IsCompleted);
            pending = [.. _latestReaders[partition]];
        }

        if (pending.Length > 0)
        {
            // A failed attach is the reader's problem, reported by its ReadAsync.
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false);
        }
    }

    private async Task<PartitionInfo> DescribeAsync(int partition, CancellationToken ct)
    {
        var stream = Topology.Stream(partition);
        PartitionWriter? writer;
        lock (_writersLock)
        {
            writer = _writers[partition];
        }

        return await Broker.RetryAsync($"describe of stream {stream}", async token =>
        {
            var connection = await Broker.ConsumingAsync(token).ConfigureAwait(false);
            long next;
            DateTimeOffset? last;
            var seenData = false;
            if (writer?.Known is { } known)
            {
                (next, last) = known;
            }
            else
            {
                var newest = await Positions.NewestAsync(connection, stream, token).ConfigureAwait(false);
                next = newest?.Header.EndOffset ?? 0;
                last = newest?.Header.EnqueuedAt;
                seenData = newest is not null;
            }

            if (next == 0)
            {
                return new PartitionInfo(partition, 0, 0, null);
            }

            var oldest = await Positions.OldestAsync(connection, stream, token).ConfigureAwait(false);
            if (oldest is null && seenData)
            {
                // The stream holds a data frame (just read), so "nothing within the probe timeout" means a slow broker, not an empty stream.
                throw new TimeoutException($"The oldest data frame of stream '{stream}' did not arrive within {Broker.Options.ProbeTimeout.TotalSeconds:F1} s.");
            }

            return new PartitionInfo(partition, Math.Min(oldest?.Header.FirstOffset ?? next, next), next, last);
        }, ct).ConfigureAwait(false);
    }

    private List<PartitionWriter> DetachWriters()
    {
        lock (_writersLock)
        {
            var writers = _writers.OfType<PartitionWriter>().ToList();
            Array.Clear(_writers);
            return writers;
        }
    }
}

/// <summary>The name and partition checks of the "EventLog" section, shared with the embedded backend's validator.</summary>
internal static class EventLogOptionsValidatorChecks
{
    public static IEnumerable<string> Common(string name, int partitions)
    {
        var options = new EventLogOptions { Kind = EventLogKinds.RabbitMq, Name = name, Partitions = partitions };
        var result = new EventLogOptionsValidator([new KindOnly()]).Validate(null, options);
        return result.Failed ? result.Failures ?? [] : [];
    }

    private sealed class KindOnly : IEventLogBackend
    {
        public string Kind => EventLogKinds.RabbitMq;

        public IEventLog Create(EventLogOptions options, IServiceProvider services) => throw new NotSupportedException();
    }
}
