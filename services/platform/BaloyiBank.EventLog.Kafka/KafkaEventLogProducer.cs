using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// Sends each event to the partition <see cref="KeyPartitioner"/> gives, through the log's idempotent producer
/// (acks=all, at most 5 requests in flight, so order per partition holds), and returns once every event is acknowledged.
/// </summary>
/// <remarks>
/// librdkafka retries sends itself, with back-off, until <see cref="KafkaEventLogOptions.MessageTimeout"/>; an append is
/// not re-sent as a whole afterwards (a timed-out send may still have been written). On failure a partition holds a
/// prefix of its share of the append, in order, and the generator's <c>bb-seq</c> catch-up sends the rest.
/// </remarks>
internal sealed class KafkaEventLogProducer(KafkaEventLog log) : IEventLogProducer
{
    private bool _disposed;

    public async Task<AppendResult> AppendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (events.Count == 0)
        {
            return new AppendResult([]);
        }

        await log.EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        var partitions = new int[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            partitions[i] = PartitionOf(events[i].Key, log.PartitionCount);
        }

        await log.WaitForLatestReadersAsync(partitions.Distinct()).ConfigureAwait(false);
        var batch = new PendingAppend(events.Count);
        var producer = log.Producer();
        var topicPartitions = new TopicPartition[log.PartitionCount];
        for (var i = 0; i < events.Count; i++)
        {
            var partition = partitions[i];
            var target = topicPartitions[partition] ??= new TopicPartition(log.Name, new Partition(partition));
            var message = KafkaRecordCodec.ToMessage(events[i]);
            var index = i;
            while (true)
            {
                try
                {
                    producer.Produce(target, message, report => batch.Delivered(index, report));
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: let deliveries drain it.
                    await Task.Delay(2, cancellationToken).ConfigureAwait(false);
                }
                catch (ProduceException<byte[], byte[]> e)
                {
                    batch.Failed(index, e);
                }
            }
        }

        await batch.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (batch.FirstFailure is { } failure)
        {
            var failedCount = batch.FailedCount;
            throw KafkaFailures.Map(failure, $"append to topic {log.Name}", log.Connection,
                $"({failedCount} of {events.Count} events not acknowledged within {log.Options.MessageTimeout.TotalSeconds:F0} s of retries; the others are in the log)");
        }

        return new AppendResult(batch.Positions);
    }

    /// <summary>
    /// The partition an event with <paramref name="key"/> is sent to: <see cref="KeyPartitioner"/>'s, which is Kafka's Java
    /// (and librdkafka's murmur2) partitioner, chosen here rather than by librdkafka so no client setting can change it.
    /// </summary>
    internal static int PartitionOf(string key, int partitionCount) => KeyPartitioner.PartitionFor(key, partitionCount);

    public ValueTask DisposeAsync()
    {
        // The librdkafka producer belongs to the log (shared by its producers) and closes with it.
        _disposed = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>Collects the delivery reports of one append (they arrive on librdkafka's poll thread).</summary>
    private sealed class PendingAppend(int count)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending = count;
        private int _failed;
        private Exception? _firstFailure;

        public LogPosition[] Positions { get; } = new LogPosition[count];

        public Task Completion => _done.Task;

        public Exception? FirstFailure => Volatile.Read(ref _firstFailure);

        public int FailedCount => Volatile.Read(ref _failed);

        public void Delivered(int index, DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                Failed(index, new KafkaException(report.Error));
                return;
            }

            Positions[index] = new LogPosition(report.Partition.Value, report.Offset.Value);
            Done();
        }

        public void Failed(int index, Exception failure)
        {
            _ = index;
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _firstFailure, failure, null);
            Done();
        }

        private void Done()
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.TrySetResult();
            }
        }
    }
}
