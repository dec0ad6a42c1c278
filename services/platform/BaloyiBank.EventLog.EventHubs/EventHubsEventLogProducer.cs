using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// Appends in batches to the explicit partition <see cref="KeyPartitioner"/> picks, so every backend agrees on
/// key → partition. The service does not return sequence numbers on send, so after a partition's batches are
/// acknowledged the producer reads the partition's last sequence number and numbers its events back from it; a
/// per-partition gate in the log keeps its own producers from interleaving there. Positions are therefore exact
/// when this log instance is the partition's only writer (the pipeline's shape); with other writers they may not be.
/// </summary>
internal sealed class EventHubsEventLogProducer(EventHubsEventLog log) : IEventLogProducer
{
    public async Task<AppendResult> AppendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var positions = new LogPosition[events.Count];
        if (events.Count == 0)
        {
            return new AppendResult(positions);
        }

        await log.EnsureShapeAsync(cancellationToken).ConfigureAwait(false);
        var byPartition = new List<int>[log.PartitionCount];
        for (var i = 0; i < events.Count; i++)
        {
            var partition = KeyPartitioner.PartitionFor(events[i].Key, log.PartitionCount);
            (byPartition[partition] ??= []).Add(i);
        }

        await Task.WhenAll(byPartition.Select((indexes, partition) => indexes is null
            ? Task.CompletedTask
            : AppendToPartitionAsync(partition, indexes, events, positions, cancellationToken))).ConfigureAwait(false);
        return new AppendResult(positions);
    }

    private async Task AppendToPartitionAsync(int partition, List<int> indexes, IReadOnlyList<OutgoingEvent> events, LogPosition[] positions, CancellationToken cancellationToken)
    {
        await log.WaitForLatestReadersAsync(partition).ConfigureAwait(false);
        var gate = log.PartitionGate(partition);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var options = new CreateBatchOptions { PartitionId = EventHubsEventLog.PartitionId(partition) };
            var batch = await log.Client.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var index in indexes)
                {
                    var data = EventHubsRecordCodec.ToEventData(events[index]);
                    if (batch.TryAdd(data))
                    {
                        continue;
                    }

                    if (batch.Count == 0)
                    {
                        throw new ArgumentException(
                            $"The event with key '{events[index].Key}' ({events[index].Value.Length} bytes) is larger than the largest message Event Hub '{log.Name}' accepts " +
                            $"({batch.MaximumSizeInBytes} bytes with headers). Split it or use a tier with larger messages.", nameof(events));
                    }

                    await log.Client.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                    batch.Dispose();
                    batch = await log.Client.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
                    if (!batch.TryAdd(data))
                    {
                        throw new ArgumentException($"The event with key '{events[index].Key}' does not fit an empty batch of Event Hub '{log.Name}' ({batch.MaximumSizeInBytes} bytes).", nameof(events));
                    }
                }

                if (batch.Count > 0)
                {
                    await log.Client.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                batch.Dispose();
            }

            var properties = await log.Client.GetPartitionPropertiesAsync(options.PartitionId, cancellationToken).ConfigureAwait(false);
            var first = properties.LastEnqueuedSequenceNumber - indexes.Count + 1;
            for (var i = 0; i < indexes.Count; i++)
            {
                positions[indexes[i]] = new LogPosition(partition, first + i);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
