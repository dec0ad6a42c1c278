using Microsoft.Extensions.Logging;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// Tails one partition stream through a stream consumer (x-stream-offset start, BasicQos prefetch,
/// manual acks as frames are taken). Frames are unpacked into records with their offsets; records
/// before the start position are skipped. When the connection or the consumer is lost, the next
/// read re-attaches after the last record handed out, so nothing is skipped or repeated.
/// Not safe for concurrent <see cref="ReadAsync"/> calls, like a Kafka consumer.
/// </summary>
internal sealed partial class RabbitMqPartitionReader : IPartitionReader
{
    private readonly RabbitMqEventLog _log;
    private readonly string _stream;
    private readonly StartPosition _start;
    private Task<StreamConsumer>? _attaching;
    private StreamConsumer? _consumer;
    private readonly CancellationTokenSource _disposing = new();

    // Records with a lower offset are skipped: the start offset, then one past the last record handed out.
    private long _nextOffset = -1;
    // AtTime: frames enqueued before this are skipped until the first one at or after it.
    private long? _minTicks;
    private LogRecord[]? _frame;
    private int _frameIndex;
    private bool _disposed;

    public RabbitMqPartitionReader(RabbitMqEventLog log, int partition, StartPosition start)
    {
        _log = log;
        Partition = partition;
        _stream = log.Topology.Stream(partition);
        _start = start;
        switch (start)
        {
            case StartPosition.OffsetPosition at:
                _nextOffset = Math.Max(0, at.Offset);
                break;
            case StartPosition.TimePosition at:
                _minTicks = at.Instant.UtcTicks;
                break;
            case StartPosition.EarliestPosition or StartPosition.LatestPosition:
                break;
            default:
                throw new ArgumentException($"Unknown start position {start}.", nameof(start));
        }

        // Attach right away: a Latest reader sees what is appended from now on, and the log's own
        // producers wait for this attach before their next publish to the partition.
        _attaching = AttachAsync(_disposing.Token);
        if (start is StartPosition.LatestPosition)
        {
            log.RegisterLatestReader(partition, _attaching);
        }
    }

    public int Partition { get; }

    public async Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        if (maxWait < TimeSpan.Zero && maxWait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(maxWait), maxWait, "maxWait must be zero or more, or infinite.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var records = new List<LogRecord>(Math.Min(maxRecords, 1024));
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (maxWait != Timeout.InfiniteTimeSpan)
        {
            waiting.CancelAfter(maxWait);
        }

        while (true)
        {
            Take(records, maxRecords);
            if (records.Count >= maxRecords)
            {
                return records;
            }

            StreamConsumer consumer;
            try
            {
                consumer = await ConsumerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch when (records.Count > 0)
            {
                // Hand out what was taken; the failure comes again with the next read.
                return records;
            }

            try
            {
                if (consumer.Messages.TryRead(out var message))
                {
                    await AcceptAsync(consumer, message, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (records.Count > 0)
                {
                    return records;
                }

                if (!consumer.Channel.IsOpen)
                {
                    throw new AlreadyClosedException(consumer.Channel.CloseReason ?? new RabbitMQ.Client.Events.ShutdownEventArgs(RabbitMQ.Client.ShutdownInitiator.Library, 0, "stream consumer's channel closed"));
                }

                if (!await consumer.Messages.WaitToReadAsync(waiting.Token).ConfigureAwait(false))
                {
                    throw new AlreadyClosedException(new RabbitMQ.Client.Events.ShutdownEventArgs(RabbitMQ.Client.ShutdownInitiator.Library, 0, "stream consumer stopped"));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && waiting.IsCancellationRequested)
            {
                return records;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && BrokerConnections.IsTransient(ex))
            {
                LogConsumerLost(_log.Logger, _stream, _nextOffset, ex.Message);
                await DropConsumerAsync().ConfigureAwait(false);
                _attaching = AttachAsync(_disposing.Token);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _disposing.CancelAsync().ConfigureAwait(false);
        await DropConsumerAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }

    private void Take(List<LogRecord> records, int maxRecords)
    {
        while (_frame is not null && records.Count < maxRecords)
        {
            if (_frameIndex >= _frame.Length)
            {
                _frame = null;
                return;
            }

            var record = _frame[_frameIndex++];
            if (record.Offset < _nextOffset)
            {
                continue;
            }

            records.Add(record);
            _nextOffset = record.Offset + 1;
        }
    }

    private async Task AcceptAsync(StreamConsumer consumer, StreamMessage message, CancellationToken ct)
    {
        await consumer.AckAsync(message.DeliveryTag, ct).ConfigureAwait(false);
        if (message.Header is not { IsFence: false } header)
        {
            return;
        }

        if (_minTicks is { } min)
        {
            if (header.EnqueuedTicks < min)
            {
                return;
            }

            _minTicks = null;
        }

        if (header.EndOffset <= _nextOffset)
        {
            return;
        }

        _frame = FrameCodec.Decode(message.Body, header, Partition);
        _frameIndex = 0;
    }

    private async Task<StreamConsumer> ConsumerAsync(CancellationToken ct)
    {
        if (_consumer is not null)
        {
            return _consumer;
        }

        var attaching = _attaching ??= AttachAsync(_disposing.Token);
        try
        {
            _consumer = await attaching.WaitAsync(ct).ConfigureAwait(false);
            return _consumer;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Failed for good (retries exhausted or a wrong setting): the next read tries again.
            _attaching = null;
            throw;
        }
    }

    private Task<StreamConsumer> AttachAsync(CancellationToken ct) =>
        _log.Broker.RetryAsync($"read of stream {_stream}", async token =>
        {
            await _log.EnsureOpenAsync(token).ConfigureAwait(false);
            var connection = await _log.Broker.ConsumingAsync(token).ConfigureAwait(false);
            var at = await StartAsync(connection, token).ConfigureAwait(false);
            return await StreamConsumer.AttachAsync(connection, _stream, at, _log.Broker.Options.ReaderPrefetch, ackOnReceive: false, token).ConfigureAwait(false);
        }, ct);

    /// <summary>The x-stream-offset to attach at, from where the reader stands now.</summary>
    private async Task<object> StartAsync(RabbitMQ.Client.IConnection connection, CancellationToken ct)
    {
        if (_minTicks is { } ticks)
        {
            return await _log.Positions.LocateAsync(connection, _stream, h => h.EnqueuedTicks >= ticks, ct).ConfigureAwait(false);
        }

        if (_start is StartPosition.LatestPosition && _nextOffset < 0)
        {
            // "Latest" becomes an offset at the first attach: the log's end now. Attaching at the broker's "next"
            // instead would be correct only once; after a lost connection it would skip whatever was appended
            // while the reader was away.
            var newest = await _log.Positions.NewestAsync(connection, _stream, ct).ConfigureAwait(false);
            _nextOffset = newest?.Header.EndOffset ?? 0;
        }

        if (_nextOffset > 0)
        {
            var offset = _nextOffset;
            return await _log.Positions.LocateAsync(connection, _stream, h => h.EndOffset > offset, ct).ConfigureAwait(false);
        }

        // Earliest, AtOffset(0), or Latest on a log that was empty when the reader first attached.
        return "first";
    }

    private async Task DropConsumerAsync()
    {
        var consumer = _consumer;
        var attaching = _attaching;
        _consumer = null;
        _attaching = null;
        _frame = null;
        if (consumer is not null)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
        else if (attaching is not null)
        {
            try
            {
                await (await attaching.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or RabbitMQClientException)
            {
                // It never attached.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reader of stream {Stream} lost its consumer at offset {Offset}; re-attaching: {Error}")]
    private static partial void LogConsumerLost(ILogger logger, string stream, long offset, string error);
}
