namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// Splits an append by partition (<see cref="KeyPartitioner"/>) and hands each part to the log's
/// writer of that partition; the parts go out in parallel, each in order.
/// </summary>
internal sealed class RabbitMqEventLogProducer(RabbitMqEventLog log) : IEventLogProducer
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
        var partitions = log.PartitionCount;
        var byPartition = new Dictionary<int, (List<OutgoingEvent> Events, List<int> Indexes)>();
        for (var i = 0; i < events.Count; i++)
        {
            var partition = KeyPartitioner.PartitionFor(events[i].Key, partitions);
            if (!byPartition.TryGetValue(partition, out var part))
            {
                part = ([], []);
                byPartition[partition] = part;
            }

            part.Events.Add(events[i]);
            part.Indexes.Add(i);
        }

        var positions = new LogPosition[events.Count];
        await Task.WhenAll(byPartition.Select(async pair =>
        {
            var offsets = await log.Writer(pair.Key).AppendAsync(pair.Value.Events, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < offsets.Length; i++)
            {
                positions[pair.Value.Indexes[i]] = new LogPosition(pair.Key, offsets[i]);
            }
        })).ConfigureAwait(false);
        return new AppendResult(positions);
    }

    public ValueTask DisposeAsync()
    {
        // The partition writers belong to the log (shared by its producers) and close with it.
        _disposed = true;
        return ValueTask.CompletedTask;
    }
}
