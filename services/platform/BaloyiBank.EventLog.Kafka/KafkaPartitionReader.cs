using System.Diagnostics;
using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// Reads one partition with its own librdkafka consumer, assigned (never subscribed) at the start position's offset;
/// no group membership, no offset commits. Kafka offsets are the log's offsets.
/// </summary>
public sealed class KafkaPartitionReader : IPartitionReader
{
    private readonly KafkaEventLog _log;
    private readonly StartPosition _start;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _resolveLock = new();
    private Task<IConsumer<byte[], byte[]>>? _resolved;
    private long _minimumOffset = long.MinValue;
    private bool _disposed;

    internal KafkaPartitionReader(KafkaEventLog log, int partition, StartPosition start)
    {
        _log = log;
        Partition = partition;
        _start = start;
        TopicPartition = new TopicPartition(log.Name, new Partition(partition));
        if (start is StartPosition.LatestPosition)
        {
            // "Latest" is the end at the moment the reader opened: resolve it now; this log's appends wait for it.
            var resolving = Resolve(CancellationToken.None);
            log.RegisterLatestReader(partition, resolving);
        }
    }

    public int Partition { get; }

    public TopicPartition TopicPartition { get; }

    /// <summary>Whether the last read reached the end of the partition (librdkafka's partition EOF).</summary>
    public bool AtEndOfPartition { get; private set; }

    /// <summary>The partition's high watermark as last seen by this reader's fetches (the next offset the log will give), or null before any.</summary>
    public long? HighWatermark { get; private set; }

    /// <summary>The offset this reader returns next, or null before it has one.</summary>
    public long? NextOffset { get; private set; }

    /// <summary>Records between this reader and the end of the partition, as of its last fetch; null when unknown.</summary>
    public long? Lag => HighWatermark is { } high && NextOffset is { } next ? Math.Max(0, high - next) : null;

    public async Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        var started = Stopwatch.GetTimestamp();
        var consumer = await Resolve(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var left = maxWait - Stopwatch.GetElapsedTime(started);
            return await Task.Run(() => Read(consumer, maxRecords, left, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            Task<IConsumer<byte[], byte[]>>? resolved;
            lock (_resolveLock)
            {
                resolved = _resolved;
            }

            if (resolved is not null)
            {
                try
                {
                    var consumer = await resolved.ConfigureAwait(false);
                    await Task.Run(() =>
                    {
                        consumer.Close();
                        consumer.Dispose();
                    }).ConfigureAwait(false);
                }
                catch (Exception e) when (e is KafkaUnavailableException or EventLogConfigurationException or KafkaException or OperationCanceledException or ObjectDisposedException)
                {
                    // It never got a consumer, or the consumer is already broken: nothing to close.
                }
            }
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    private Task<IConsumer<byte[], byte[]>> Resolve(CancellationToken ct)
    {
        lock (_resolveLock)
        {
            // A failed resolution is retried by the next read.
            if (_resolved is null || _resolved.IsFaulted || _resolved.IsCanceled)
            {
                _resolved = ResolveAsync(ct);
            }

            return _resolved;
        }
    }

    private async Task<IConsumer<byte[], byte[]>> ResolveAsync(CancellationToken ct)
    {
        await _log.EnsureOpenAsync(ct).ConfigureAwait(false);
        var consumer = _log.Clients.BuildConsumer($"p{Partition}");
        try
        {
            var offset = await _log.RetryAsync($"position lookup in topic {_log.Name} partition {Partition}", token => StartOffset(consumer), ct).ConfigureAwait(false);
            consumer.Assign(new TopicPartitionOffset(TopicPartition, offset));
            NextOffset = offset.IsSpecial ? null : offset.Value;
            return consumer;
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    private Offset StartOffset(IConsumer<byte[], byte[]> consumer)
    {
        var timeout = _log.Options.RequestTimeout;
        switch (_start)
        {
            case StartPosition.EarliestPosition:
                return Offset.Beginning;
            case StartPosition.LatestPosition:
                return consumer.QueryWatermarkOffsets(TopicPartition, timeout).High;
            case StartPosition.OffsetPosition { Offset: var wanted }:
            {
                // Kafka would reset an offset beyond the end to the beginning: start at the end and skip up to the wanted offset.
                var marks = consumer.QueryWatermarkOffsets(TopicPartition, timeout);
                _minimumOffset = wanted;
                return new Offset(AssignOffsetFor(wanted, marks.Low.Value, marks.High.Value));
            }

            case StartPosition.TimePosition { Instant: var instant }:
            {
                var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp(TopicPartition, new Timestamp(instant.UtcDateTime))], timeout);
                var offset = found.Count == 1 ? found[0].Offset : Offset.End;
                return offset.IsSpecial ? consumer.QueryWatermarkOffsets(TopicPartition, timeout).High : offset;
            }

            default:
                throw new InvalidOperationException($"Unknown start position {_start}.");
        }
    }

    /// <summary>
    /// Where a reader started <c>AtOffset(wanted)</c> is assigned, given the partition's low and high watermarks: the
    /// first retained offset when <paramref name="wanted"/> is older, the end when it is beyond it (records below
    /// <paramref name="wanted"/> are then skipped as they arrive), else <paramref name="wanted"/>.
    /// </summary>
    internal static long AssignOffsetFor(long wanted, long low, long high) =>
        wanted < low ? low : wanted > high ? high : wanted;

    private List<LogRecord> Read(IConsumer<byte[], byte[]> consumer, int maxRecords, TimeSpan maxWait, CancellationToken ct)
    {
        var records = new List<LogRecord>(Math.Min(maxRecords, 1024));
        var deadline = Stopwatch.GetTimestamp() + (long)(Math.Max(0, maxWait.TotalSeconds) * Stopwatch.Frequency);
        var first = true;
        while (records.Count < maxRecords)
        {
            ct.ThrowIfCancellationRequested();
            var slice = TimeSpan.Zero;
            if (records.Count == 0)
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero && !first)
                {
                    break;
                }

                slice = left <= TimeSpan.Zero ? TimeSpan.Zero : left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100);
            }

            first = false;
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = consumer.Consume(slice);
            }
            catch (ConsumeException e)
            {
                throw KafkaFailures.Map(new KafkaException(e.Error), $"read of topic {_log.Name} partition {Partition}", _log.Connection);
            }

            if (result is null)
            {
                if (records.Count > 0)
                {
                    break;
                }

                continue;
            }

            if (result.IsPartitionEOF)
            {
                AtEndOfPartition = true;
                HighWatermark = result.Offset.Value;
                NextOffset = result.Offset.Value;
                if (records.Count > 0)
                {
                    break;
                }

                continue;
            }

            AtEndOfPartition = false;
            NextOffset = result.Offset.Value + 1;
            if (result.Offset.Value < _minimumOffset)
            {
                continue;
            }

            records.Add(KafkaRecordCodec.ToRecord(result));
        }

        var watermarks = consumer.GetWatermarkOffsets(TopicPartition);
        if (watermarks.High.Value >= 0)
        {
            HighWatermark = watermarks.High.Value;
        }

        return records;
    }
}
