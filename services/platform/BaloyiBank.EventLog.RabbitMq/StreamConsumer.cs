using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>One message read from a stream: its stream offset (x-stream-offset) and a copy of its body.</summary>
internal readonly record struct StreamMessage(long StreamOffset, byte[] Body, ulong DeliveryTag)
{
    public FrameHeader? Header => FrameCodec.TryReadHeader(Body);
}

/// <summary>
/// A stream consumer on its own channel: deliveries are copied into an in-memory queue that the
/// owner drains. Acknowledgements are the owner's job (the broker sends at most the prefetch
/// ahead of them), except in <c>ackOnReceive</c> mode used for short position probes.
/// </summary>
/// <remarks>
/// Acks and the close are serialized: once <see cref="DisposeAsync"/> has begun no ack is sent.
/// RabbitMQ.Client 7.1.2 keeps sending a channel's frames until channel.close-ok comes back, and a
/// broker that has already processed the channel.close treats a later basic.ack on that number as a
/// connection error (504 CHANNEL_ERROR - expected 'channel.open'), which kills every other channel
/// of the connection: a probe acking from the dispatcher while its owner closed it did that (issue 6).
/// </remarks>
internal sealed class StreamConsumer : AsyncDefaultBasicConsumer, IAsyncDisposable
{
    private readonly Channel<StreamMessage> _queue = System.Threading.Channels.Channel.CreateUnbounded<StreamMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly bool _ackOnReceive;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private bool _closing;
    private string? _tag;

    private StreamConsumer(IChannel channel, bool ackOnReceive)
        : base(channel) => _ackOnReceive = ackOnReceive;

    public ChannelReader<StreamMessage> Messages => _queue.Reader;

    /// <summary>
    /// Opens a channel on <paramref name="connection"/> and attaches to <paramref name="stream"/> at
    /// <paramref name="start"/>: "first", "last", "next", a stream offset (long) or an AMQP timestamp.
    /// Returns once the broker confirmed the attach (basic.consume-ok).
    /// </summary>
    public static async Task<StreamConsumer> AttachAsync(IConnection connection, string stream, object start, ushort prefetch, bool ackOnReceive, CancellationToken ct)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
        try
        {
            await channel.BasicQosAsync(0, prefetch, false, ct).ConfigureAwait(false);
            var consumer = new StreamConsumer(channel, ackOnReceive);
            consumer._tag = await channel.BasicConsumeAsync(
                stream, autoAck: false, consumerTag: string.Empty, noLocal: false, exclusive: false,
                arguments: new Dictionary<string, object?> { ["x-stream-offset"] = start },
                consumer: consumer, cancellationToken: ct).ConfigureAwait(false);
            return consumer;
        }
        catch
        {
            await CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Acknowledges every delivery up to <paramref name="deliveryTag"/>; does nothing once the consumer is being disposed.</summary>
    public Task AckAsync(ulong deliveryTag, CancellationToken ct) => SendAckAsync(deliveryTag, multiple: true, ct);

    public override async Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        var offset = properties.Headers is { } headers && headers.TryGetValue("x-stream-offset", out var value) ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : -1;
        // The body is only valid during this call.
        _queue.Writer.TryWrite(new StreamMessage(offset, body.ToArray(), deliveryTag));
        if (_ackOnReceive)
        {
            await SendAckAsync(deliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override Task OnCancelAsync(string[] consumerTags, CancellationToken cancellationToken = default)
    {
        _queue.Writer.TryComplete(new AlreadyClosedException(new ShutdownEventArgs(ShutdownInitiator.Peer, 320, "the broker cancelled the stream consumer (stream deleted or its node restarting)")));
        return base.OnCancelAsync(consumerTags, cancellationToken);
    }

    public override Task HandleChannelShutdownAsync(object channel, ShutdownEventArgs reason)
    {
        _queue.Writer.TryComplete(reason.Initiator == ShutdownInitiator.Application ? null : new AlreadyClosedException(reason));
        return base.HandleChannelShutdownAsync(channel, reason);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        // Waits for an ack being sent (its frame is then queued before the close) and stops later ones; an ack that
        // cannot be written for CloseTimeout (a connection whose frame writer is stuck) does not hold the close up.
        var locked = await _sending.WaitAsync(CloseTimeout).ConfigureAwait(false);
        try
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
        }
        finally
        {
            if (locked)
            {
                _sending.Release();
            }
        }

        if (Channel.IsOpen && _tag is not null)
        {
            try
            {
                await Channel.BasicCancelAsync(_tag, noWait: true).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RabbitMQClientException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // The channel is closing anyway.
            }
        }

        await CloseChannelQuietlyAsync(Channel).ConfigureAwait(false);
    }

    private async Task SendAckAsync(ulong deliveryTag, bool multiple, CancellationToken ct)
    {
        await _sending.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_closing)
            {
                await Channel.BasicAckAsync(deliveryTag, multiple, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// The longest a channel close (or an ack in flight before it) is waited for. RabbitMQ.Client 7.x can leave
    /// <c>IChannel.CloseAsync</c> waiting forever for its consumer dispatcher, whatever token it is given
    /// (rabbitmq/rabbitmq-dotnet-client#1751); a probe's close then hung a log description with every thread idle.
    /// </summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Closes (at most <see cref="CloseTimeout"/>) and disposes a channel; false when the close did not finish in time.</summary>
    public static async Task<bool> CloseChannelQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                await channel.CloseAsync().WaitAsync(CloseTimeout).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            // The close is stuck inside the client: leave the channel to it (disposing would wait on the same close)
            // and go on; the connection is reset when it misbehaves further.
            return false;
        }
        catch (Exception ex) when (ex is RabbitMQClientException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Already gone.
        }

        channel.Dispose();
        return true;
    }
}

/// <summary>Short reads of a stream to find positions: the first message, the last chunk, the first data frame after an offset.</summary>
internal static class StreamProbe
{
    /// <summary>
    /// Reads messages from <paramref name="start"/> until <paramref name="stop"/> accepts one (included),
    /// nothing arrived within <paramref name="firstWait"/>, or deliveries paused for <paramref name="quiet"/>.
    /// A small <paramref name="prefetch"/> keeps a probe that needs one message from pulling many large ones.
    /// </summary>
    public static async Task<List<StreamMessage>> ReadAsync(
        IConnection connection, string stream, object start, Func<StreamMessage, bool> stop, TimeSpan firstWait, TimeSpan quiet, CancellationToken ct, ushort prefetch = 2)
    {
        var messages = new List<StreamMessage>();
        await using var consumer = await StreamConsumer.AttachAsync(connection, stream, start, prefetch, ackOnReceive: true, ct).ConfigureAwait(false);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        while (true)
        {
            timer.CancelAfter(messages.Count == 0 ? firstWait : quiet);
            bool available;
            try
            {
                available = await consumer.Messages.WaitToReadAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return messages;
            }

            if (!available)
            {
                // Completed without an error: disposed under us. An error is rethrown by WaitToReadAsync.
                return messages;
            }

            while (consumer.Messages.TryRead(out var message))
            {
                messages.Add(message);
                if (stop(message))
                {
                    return messages;
                }
            }

            if (!timer.TryReset())
            {
                return messages;
            }
        }
    }
}
