using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>One receive link: sends stored events from its cursor as link credit allows, then waits for more.</summary>
internal sealed class PartitionConsumer(SendingAmqpLink link, PartitionLog log, StartPosition start, long? ownerLevel, bool runtimeMetrics)
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _credit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next = log.FirstIndex(start);
    private bool _skipping = true;
    private long _tag;

    public SendingAmqpLink Link { get; } = link;

    public long? OwnerLevel { get; } = ownerLevel;

    public bool IsClosed => _closed.Task.IsCompleted;

    public void Start()
    {
        Link.RegisterCreditListener((_, _, _) => Interlocked.Exchange(ref _credit, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        Link.SafeAddClosed((_, _) =>
        {
            _closed.TrySetResult();
        });
        _ = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        try
        {
            while (!_closed.Task.IsCompleted)
            {
                // Take both signals before looking, so an append or credit in between is not missed.
                var appended = log.NextAppend;
                var credit = Volatile.Read(ref _credit).Task;
                var sent = 0;
                while (Link.LinkCredit > 0 && _next < log.Count && !_closed.Task.IsCompleted)
                {
                    var stored = log.Get(_next++);
                    if (_skipping && !PartitionLog.Satisfies(start, stored))
                    {
                        continue;
                    }

                    _skipping = false;
                    Link.SendMessageNoWait(ToMessage(stored, runtimeMetrics ? log.LastOrDefault() : null), NextTag(), AmqpConstants.NullBinary);
                    sent++;
                }

                if (sent > 0 || (Link.LinkCredit > 0 && _next < log.Count))
                {
                    continue;
                }

                await Task.WhenAny(Link.LinkCredit > 0 ? appended : credit, _closed.Task).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AmqpException or ObjectDisposedException or InvalidOperationException)
        {
            Link.SafeClose(ex);
        }
    }

    private ArraySegment<byte> NextTag() => new(BitConverter.GetBytes(Interlocked.Increment(ref _tag)));

    private static AmqpMessage ToMessage(StoredEvent stored, StoredEvent? lastInPartition)
    {
        // A stream message re-encodes its non-body sections on send, so the stamped annotations go out.
        var encoded = lastInPartition is null ? [new ArraySegment<byte>(stored.Message)] : WithRuntimeMetrics(stored.Message, lastInPartition);
        var message = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream(encoded));
        var annotations = message.MessageAnnotations.Map;
        annotations[AmqpNames.SequenceNumber] = stored.SequenceNumber;
        annotations[AmqpNames.Offset] = stored.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        annotations[AmqpNames.EnqueuedTime] = stored.EnqueuedTimeUtc;
        if (stored.PartitionKey is not null && !annotations.TryGetValue<string>(AmqpNames.PartitionKey, out _))
        {
            annotations[AmqpNames.PartitionKey] = stored.PartitionKey;
        }

        return message;
    }

    /// <summary>
    /// The partition's last event as delivery annotations (what a receiver asking for
    /// <c>com.microsoft:enable-receiver-runtime-metric</c> reads as "last enqueued event properties"). A stream
    /// message cannot gain a delivery-annotations section, so it is spliced into the encoding after the header.
    /// </summary>
    private static ArraySegment<byte>[] WithRuntimeMetrics(byte[] encoded, StoredEvent last)
    {
        using var probe = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([new ArraySegment<byte>(encoded)]));
        if (probe.DeliveryAnnotations is not null)
        {
            return [new ArraySegment<byte>(encoded)];
        }

        var headerEnd = (int)(probe.Header.Offset + probe.Header.Length);
        var annotations = new DeliveryAnnotations();
        annotations.Map[AmqpNames.LastEnqueuedSequenceNumber] = last.SequenceNumber;
        annotations.Map[AmqpNames.LastEnqueuedOffset] = last.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        annotations.Map[AmqpNames.LastEnqueuedTimeUtc] = last.EnqueuedTimeUtc;
        annotations.Map[AmqpNames.RuntimeInfoRetrievalTimeUtc] = DateTime.UtcNow;
        var section = new ByteBuffer(annotations.EncodeSize, false);
        annotations.Encode(section);
        ArraySegment<byte>[] parts =
        [
            new(encoded, 0, headerEnd),
            new(section.Buffer, section.Offset, section.Length),
            new(encoded, headerEnd, encoded.Length - headerEnd),
        ];
        return [.. parts.Where(p => p.Count > 0)];
    }
}
