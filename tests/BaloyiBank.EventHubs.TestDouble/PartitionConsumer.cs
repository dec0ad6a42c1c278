using Microsoft.Azure.Amqp;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>One receive link: sends stored events from its cursor as link credit allows, then waits for more.</summary>
internal sealed class PartitionConsumer(SendingAmqpLink link, PartitionLog log, StartPosition start, long? ownerLevel)
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
                    Link.SendMessageNoWait(ToMessage(stored), NextTag(), AmqpConstants.NullBinary);
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

    private static AmqpMessage ToMessage(StoredEvent stored)
    {
        // A stream message re-encodes its non-body sections on send, so the stamped annotations go out.
        var message = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([new ArraySegment<byte>(stored.Message)]));
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
}
