using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// Reads one partition through the SDK's <see cref="PartitionReceiver"/>. Offsets are sequence numbers, so
/// <c>AtOffset(o)</c> is "sequence number ≥ o" and <c>AtTime(t)</c> "enqueued at or after t"; records before the
/// start are also dropped here, so the port's meaning holds whatever the service does at the edges.
/// </summary>
internal sealed class EventHubsPartitionReader : IPartitionReader
{
    private readonly EventHubsEventLog _log;
    private readonly Task<PartitionReceiver> _receiver;
    private readonly long _minimumSequence;
    private readonly DateTimeOffset _minimumTime;

    public EventHubsPartitionReader(EventHubsEventLog log, int partition, StartPosition start)
    {
        _log = log;
        Partition = partition;
        _minimumSequence = start is StartPosition.OffsetPosition o ? o.Offset : long.MinValue;
        _minimumTime = start is StartPosition.TimePosition t ? t.Instant : DateTimeOffset.MinValue;
        switch (start)
        {
            case StartPosition.LatestPosition:
                // "Latest" is the end when the reader opened, not when it first reads: resolve it now; this log's appends wait for it.
                _receiver = ResolveLatestAsync();
                log.RegisterLatestReader(partition, _receiver);
                break;
            case StartPosition.EarliestPosition:
                _receiver = Task.FromResult(log.CreateReceiver(partition, EventPosition.Earliest));
                break;
            case StartPosition.OffsetPosition offset:
                _receiver = Task.FromResult(log.CreateReceiver(partition, EventPosition.FromSequenceNumber(Math.Max(offset.Offset, 0), isInclusive: true)));
                break;
            case StartPosition.TimePosition time:
                // The filter is "enqueued after" in whole milliseconds; one millisecond before t (rounded up) includes t.
                var ceiling = time.Instant.ToUnixTimeMilliseconds() + (time.Instant.UtcTicks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1);
                _receiver = Task.FromResult(log.CreateReceiver(partition, EventPosition.FromEnqueuedTime(DateTimeOffset.FromUnixTimeMilliseconds(ceiling - 1))));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(start), start, "Unknown start position.");
        }
    }

    public int Partition { get; }

    public async Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        await _log.EnsureShapeAsync(cancellationToken).ConfigureAwait(false);
        var receiver = await _receiver.WaitAsync(cancellationToken).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + maxWait;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var events = await receiver.ReceiveBatchAsync(maxRecords, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            var records = new List<LogRecord>(maxRecords);
            foreach (var e in events)
            {
                if (e.SequenceNumber >= _minimumSequence && e.EnqueuedTime >= _minimumTime)
                {
                    records.Add(EventHubsRecordCodec.ToRecord(Partition, e));
                }
            }

            // Only events before the start arrived: keep waiting out maxWait for ones after it.
            if (records.Count > 0 || DateTime.UtcNow >= deadline || !events.Any())
            {
                return records;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var receiver = await _receiver.ConfigureAwait(false);
            await receiver.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Azure.Messaging.EventHubs.EventHubsException or OperationCanceledException or ObjectDisposedException)
        {
            // The start never resolved (the caller saw why on ReadAsync); nothing to close.
        }
    }

    private async Task<PartitionReceiver> ResolveLatestAsync()
    {
        var properties = await _log.Client.GetPartitionPropertiesAsync(EventHubsEventLog.PartitionId(Partition)).ConfigureAwait(false);
        var position = properties.IsEmpty && properties.LastEnqueuedSequenceNumber < 0
            ? EventPosition.Earliest
            : EventPosition.FromSequenceNumber(properties.LastEnqueuedSequenceNumber, isInclusive: false);
        return _log.CreateReceiver(Partition, position);
    }
}
