using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// The one writer of a partition stream in this process (shared by every producer of the log).
/// </summary>
/// <remarks>
/// Dense, exactly-once offsets:
/// <list type="number">
/// <item>One writing connection per partition across all processes: the writer holds the
/// exclusive queue <c>name.pN.writer</c> on its publishing connection. The broker frees it when
/// that connection closes, also when the process is killed (TCP reset) or silent (heartbeat).</item>
/// <item>With the lock held, the writer publishes a fence (a frame of no events with a unique id),
/// finds it by reading the stream's last chunk, and reads back from it to the newest data frame:
/// next offset = its first offset + count, and its enqueue time is the floor for ours (enqueue
/// times never go backwards in a partition). No timeout decides where the stream ends.</item>
/// <item>Every frame carries the writer's id and a sequence number and is published with
/// publisher confirms. When a publish fails, the writer reconnects, retakes the lock, fences again
/// and reads back: its unconfirmed frames found in the stream are done, the rest are renumbered
/// from the tail and published again. So a batch is neither lost nor stored twice, and offsets
/// stay dense, whether the broker restarted, the connection dropped, or another process wrote in between.</item>
/// </list>
/// </remarks>
internal sealed partial class PartitionWriter : IAsyncDisposable
{
    private readonly RabbitMqEventLog _log;
    private readonly BrokerConnections _broker;
    private readonly StreamPositions _positions;
    private readonly string _stream;
    private readonly string _lockQueue;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Guid _writerId = Guid.NewGuid();
    private long _sequence;
    private IChannel? _lockChannel;
    private IChannel? _channel;
    private readonly object _confirmLock = new();
    private readonly SortedDictionary<ulong, TaskCompletionSource> _unconfirmed = [];
    private string? _returned;
    private long _next = -1;
    private long _lastTicks;
    private bool _disposed;

    public PartitionWriter(RabbitMqEventLog log, int partition, BrokerConnections broker, StreamPositions positions)
    {
        _log = log;
        Partition = partition;
        _broker = broker;
        _positions = positions;
        _stream = log.Topology.Stream(partition);
        _lockQueue = log.Topology.WriterLock(partition);
    }

    public int Partition { get; }

    /// <summary>The next offset and the newest enqueue time, when this writer has learned them (it holds the partition).</summary>
    public (long Next, DateTimeOffset? LastEnqueuedAt)? Known
    {
        get
        {
            var next = Volatile.Read(ref _next);
            return next < 0 ? null : (next, next == 0 ? null : new DateTimeOffset(Volatile.Read(ref _lastTicks), TimeSpan.Zero));
        }
    }

    /// <summary>Appends <paramref name="events"/> (all of this partition, in order); returns each one's offset.</summary>
    public async Task<long[]> AppendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await _log.WaitForLatestReadersAsync(Partition).ConfigureAwait(false);
            var frames = Split(events);
            var published = 0;
            await _broker.RetryAsync($"append to stream {_stream}", async token =>
            {
                // A channel alone is not enough: a take-over that failed half-way left no next offset.
                if (_channel is not { IsOpen: true } || _next < 0)
                {
                    published = await RecoverAsync(frames, published, token).ConfigureAwait(false);
                }

                published = await PublishAsync(frames, published, token).ConfigureAwait(false);
                return true;
            }, ct).ConfigureAwait(false);

            var offsets = new long[events.Count];
            foreach (var frame in frames)
            {
                for (var i = 0; i < frame.Count; i++)
                {
                    offsets[frame.Start + i] = frame.FirstOffset + i;
                }
            }

            return offsets;
        }
        catch
        {
            // Whatever failed (cancellation included), what the broker kept is learned from the stream on the next append.
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await DropConnectionAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private List<PendingFrame> Split(IReadOnlyList<OutgoingEvent> events)
    {
        var options = _broker.Options;
        var budget = options.MaxMessageBytes - FrameCodec.HeaderBytes;
        var frames = new List<PendingFrame>();
        var start = 0;
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var size = FrameCodec.RecordSize(events[i]);
            var count = i - start;
            if (count > 0 && (count >= options.MaxEventsPerMessage || bytes + size > budget))
            {
                frames.Add(new PendingFrame(events, start, count, bytes));
                start = i;
                bytes = 0;
            }

            bytes += size;
        }

        if (events.Count > start)
        {
            frames.Add(new PendingFrame(events, start, events.Count - start, bytes));
        }

        return frames;
    }

    /// <summary>Publishes frames[from..] pipelined, each confirmed; returns how many are confirmed (all, or it throws).</summary>
    private async Task<int> PublishAsync(List<PendingFrame> frames, int from, CancellationToken ct)
    {
        var channel = _channel!;
        if (_next < 0)
        {
            throw new InvalidOperationException($"The writer of stream '{_stream}' does not know its next offset.");
        }

        var inFlight = new Queue<(int Index, Task Confirmed)>();
        var confirmed = from;
        try
        {
            for (var i = from; i < frames.Count; i++)
            {
                var frame = frames[i];
                var now = _log.Time.GetUtcNow().UtcTicks;
                var ticks = Math.Max(now, _lastTicks);
                frame.Seal(_next, ticks, _writerId, ++_sequence);
                _next += frame.Count;
                _lastTicks = ticks;
                var tag = await channel.GetNextPublishSequenceNumberAsync(ct).ConfigureAwait(false);
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (_confirmLock)
                {
                    _unconfirmed[tag] = done;
                }

                await channel.BasicPublishAsync(string.Empty, _stream, mandatory: true, Persistent, frame.Body!, ct).ConfigureAwait(false);
                inFlight.Enqueue((i, done.Task));
                while (inFlight.Count >= _broker.Options.MaxUnconfirmedMessages)
                {
                    await inFlight.Dequeue().Confirmed.WaitAsync(ct).ConfigureAwait(false);
                    confirmed++;
                }
            }

            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue().Confirmed.WaitAsync(ct).ConfigureAwait(false);
                confirmed++;
            }

            if (_returned is { } reason)
            {
                throw new EventLogConfigurationException(
                    $"RabbitMQ returned a message for stream '{_stream}' at {_broker.Options.MaskedUri} ({reason}): the partition's stream is missing. " +
                    "Fix: do not delete a log's streams while it is used; reopen the log to declare them again.");
            }

            return confirmed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && BrokerConnections.IsTransient(ex))
        {
            // Which of the unconfirmed frames the broker kept is learned after reconnecting, from the stream itself.
            await DropConnectionAsync().ConfigureAwait(false);
            _next = -1;
            throw;
        }
    }

    /// <summary>
    /// (Re)connects, takes the partition's lock, learns the tail, and settles frames[from..] that
    /// may have been published before a failure: returns the index of the first one still to publish.
    /// </summary>
    private async Task<int> RecoverAsync(List<PendingFrame> frames, int from, CancellationToken ct)
    {
        try
        {
            return await TakeOverAsync(frames, from, ct).ConfigureAwait(false);
        }
        catch
        {
            // Half a take-over must not look like a usable channel: the next attempt starts again.
            await DropConnectionAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<int> TakeOverAsync(List<PendingFrame> frames, int from, CancellationToken ct)
    {
        await DropConnectionAsync().ConfigureAwait(false);
        var connection = await _broker.PublishingAsync(ct).ConfigureAwait(false);
        await TakeLockAsync(connection, ct).ConfigureAwait(false);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: false), ct).ConfigureAwait(false);
        channel.BasicAcksAsync += OnAckAsync;
        channel.BasicNacksAsync += OnNackAsync;
        channel.BasicReturnAsync += OnReturnAsync;
        channel.ChannelShutdownAsync += OnShutdownAsync;
        _channel = channel;
        _returned = null;

        // The fence marks the end of the stream as it is now, with the lock held: everything before it is all there is.
        var fenceSequence = ++_sequence;
        var fence = FrameCodec.EncodeFence(_writerId, fenceSequence, _log.Time.GetUtcNow().UtcTicks);
        await PublishConfirmedAsync(connection, fence, ct).ConfigureAwait(false);
        var lastChunk = await StreamProbe.ReadAsync(
            connection, _stream, "last",
            m => m.Header is { IsFence: true } h && h.WriterId == _writerId && h.WriterSequence == fenceSequence,
            _broker.Options.ProbeTimeout * 10, _broker.Options.ProbeTimeout * 10, ct, prefetch: 32).ConfigureAwait(false);
        if (lastChunk.Count == 0 || lastChunk[^1].Header is not { IsFence: true } found || found.WriterSequence != fenceSequence || found.WriterId != _writerId)
        {
            throw new TimeoutException($"The fence just written to stream '{_stream}' did not come back from the stream's last chunk.");
        }

        var fenceAt = lastChunk[^1].StreamOffset;
        var unsettled = frames.Skip(from).Where(f => f.Sequence > 0).ToList();
        var oldestUnsettled = unsettled.Count > 0 ? unsettled[0].FirstOffset : long.MaxValue;
        var tail = await _positions.ReadBackAsync(connection, _stream, fenceAt, f => f.Header.EndOffset <= oldestUnsettled, ct).ConfigureAwait(false);
        var newest = tail.Count > 0 ? tail[^1].Header : (FrameHeader?)null;
        _next = newest?.EndOffset ?? 0;
        _lastTicks = Math.Max(_lastTicks, newest?.EnqueuedTicks ?? 0);

        // Frames published before the failure are in the stream as a prefix of what was sent (one channel, in order).
        var ours = tail.Where(t => t.Header.WriterId == _writerId).ToDictionary(t => t.Header.WriterSequence, t => t.Header.FirstOffset);
        var settled = from;
        for (var i = from; i < frames.Count && frames[i].Sequence > 0 && ours.TryGetValue(frames[i].Sequence, out var storedAt); i++)
        {
            frames[i].Settle(storedAt);
            settled = i + 1;
        }

        for (var i = settled; i < frames.Count; i++)
        {
            frames[i].Reset();
        }

        if (unsettled.Count > 0)
        {
            LogRecovered(_broker.Logger, _stream, _next, settled - from, frames.Count - settled);
        }
        else
        {
            LogWriting(_broker.Logger, _stream, _next);
        }

        return settled;
    }

    private async Task TakeLockAsync(IConnection connection, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var logged = false;
        while (true)
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
            try
            {
                await channel.QueueDeclareAsync(_lockQueue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: ct).ConfigureAwait(false);
                _lockChannel = channel;
                return;
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 405)
            {
                await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
                if (waited.Elapsed >= _broker.Options.WriterLockWait)
                {
                    throw new EventLogLockedException(
                        $"RabbitMQ event log '{_log.Name}' partition {Partition} at {_broker.Options.MaskedUri} is being written by another connection (it holds the exclusive queue '{_lockQueue}') " +
                        $"and did not let go within {_broker.Options.WriterLockWait}. Only one process may write a partition at a time: stop the other producer " +
                        "(the broker's connection list names it), or wait for the broker to drop a dead one (heartbeat).", ex);
                }

                if (!logged)
                {
                    LogLockBusy(_broker.Logger, _stream, _lockQueue);
                    logged = true;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
            }
            catch
            {
                await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
                throw;
            }
        }
    }

    private async Task PublishConfirmedAsync(IConnection connection, byte[] body, CancellationToken ct)
    {
        // A fence is rare: a throw-away confirm-tracking channel keeps the main channel's bookkeeping simple.
        var tracked = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct).ConfigureAwait(false);
        try
        {
            await tracked.BasicPublishAsync(string.Empty, _stream, mandatory: true, Persistent, body, ct).ConfigureAwait(false);
        }
        finally
        {
            await StreamConsumer.CloseChannelQuietlyAsync(tracked).ConfigureAwait(false);
        }
    }

    private Task OnAckAsync(object sender, BasicAckEventArgs args)
    {
        Settle(args.DeliveryTag, args.Multiple, null);
        return Task.CompletedTask;
    }

    private Task OnNackAsync(object sender, BasicNackEventArgs args)
    {
        Settle(args.DeliveryTag, args.Multiple, new IOException($"RabbitMQ refused (nack) a message for stream '{_stream}'."));
        return Task.CompletedTask;
    }

    private Task OnReturnAsync(object sender, BasicReturnEventArgs args)
    {
        _returned = $"{args.ReplyCode} {args.ReplyText}";
        return Task.CompletedTask;
    }

    private Task OnShutdownAsync(object sender, ShutdownEventArgs args)
    {
        var failure = new AlreadyClosedException(args);
        lock (_confirmLock)
        {
            foreach (var pending in _unconfirmed.Values)
            {
                pending.TrySetException(failure);
            }

            _unconfirmed.Clear();
        }

        return Task.CompletedTask;
    }

    private void Settle(ulong tag, bool multiple, Exception? failure)
    {
        lock (_confirmLock)
        {
            while (_unconfirmed.Count > 0)
            {
                var (first, pending) = _unconfirmed.First();
                if (first > tag || (!multiple && first != tag))
                {
                    if (!multiple && _unconfirmed.Remove(tag, out var single))
                    {
                        Complete(single, failure);
                    }

                    return;
                }

                _unconfirmed.Remove(first);
                Complete(pending, failure);
            }
        }

        static void Complete(TaskCompletionSource pending, Exception? failure)
        {
            if (failure is null)
            {
                pending.TrySetResult();
            }
            else
            {
                pending.TrySetException(failure);
            }
        }
    }

    private async Task DropConnectionAsync()
    {
        var channel = _channel;
        var lockChannel = _lockChannel;
        _channel = null;
        _lockChannel = null;
        _next = -1;
        if (channel is not null)
        {
            await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
        }

        if (lockChannel is not null)
        {
            // Deleting the exclusive queue frees the partition at once; closing its channel alone would not.
            try
            {
                if (lockChannel.IsOpen)
                {
                    await lockChannel.QueueDeleteAsync(_lockQueue, ifUnused: false, ifEmpty: false).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is RabbitMQClientException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                // The connection is gone, and the broker dropped the lock with it.
            }

            await StreamConsumer.CloseChannelQuietlyAsync(lockChannel).ConfigureAwait(false);
        }

    }

    private static readonly BasicProperties Persistent = new() { Persistent = true };

    [LoggerMessage(Level = LogLevel.Information, Message = "Writing stream {Stream} from offset {Next}")]
    private static partial void LogWriting(ILogger logger, string stream, long next);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing stream {Stream} again from offset {Next}: of the interrupted append's unconfirmed messages {Settled} were found stored, {Republish} are published again")]
    private static partial void LogRecovered(ILogger logger, string stream, long next, int settled, int republish);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} is held by another writer (exclusive queue {Lock}); waiting for it to let go")]
    private static partial void LogLockBusy(ILogger logger, string stream, string @lock);

    /// <summary>A slice of an append that becomes one AMQP message.</summary>
    private sealed class PendingFrame(IReadOnlyList<OutgoingEvent> events, int start, int count, int bodyBytes)
    {
        public int Start { get; } = start;

        public int Count { get; } = count;

        public long FirstOffset { get; private set; } = -1;

        /// <summary>The writer sequence it was last published with; 0 when not published since the last recovery.</summary>
        public long Sequence { get; private set; }

        public byte[]? Body { get; private set; }

        public void Seal(long firstOffset, long ticks, Guid writerId, long sequence)
        {
            FirstOffset = firstOffset;
            Sequence = sequence;
            Body = FrameCodec.Encode(events, Start, Count, bodyBytes, new FrameHeader(false, firstOffset, Count, ticks, writerId, sequence));
        }

        public void Settle(long storedFirstOffset) => FirstOffset = storedFirstOffset;

        public void Reset()
        {
            Sequence = 0;
            FirstOffset = -1;
        }
    }
}
