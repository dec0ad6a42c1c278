using RabbitMQ.Client;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>A data frame seen in a stream, with the stream offset of the message that holds it.</summary>
internal readonly record struct LocatedFrame(long StreamOffset, FrameHeader Header);

/// <summary>
/// Finding event positions in a partition stream. Event offsets live in the frames, stream
/// offsets (one per AMQP message) in the broker; both grow together, so a frame is found by
/// bisecting stream offsets on the frames' first offsets (or enqueue times), a handful of short
/// reads instead of a scan. Nothing is stored beside the stream: the mapping is rebuilt from it.
/// </summary>
internal sealed class StreamPositions(RabbitMqEventLogOptions options)
{
    /// <summary>
    /// Where to attach so that the first data frame satisfying <paramref name="reached"/> (a predicate
    /// false then true along the stream) is not skipped, as an x-stream-offset value: "first" or a
    /// stream offset. Frames before the target may come first; the reader filters them.
    /// </summary>
    public async Task<object> LocateAsync(IConnection connection, string stream, Func<FrameHeader, bool> reached, CancellationToken ct)
    {
        // pred(s): the first data frame at stream offset >= s is reached, or there is none.
        var last = await ReadTailAsync(connection, stream, ct).ConfigureAwait(false);
        if (last.Count == 0)
        {
            return "first";
        }

        var lastChunk = last[0].StreamOffset;
        var lastEnd = last[^1].StreamOffset;
        var inLastChunk = FirstData(last);
        if (inLastChunk is { } frame && !reached(frame.Header))
        {
            return lastChunk;
        }

        var first = await StreamProbe.ReadAsync(connection, stream, "first", m => m.Header is { IsFence: false } || m.StreamOffset >= lastEnd, options.ProbeTimeout, options.ProbeTimeout, ct).ConfigureAwait(false);
        var firstData = FirstData(first);
        if (first.Count == 0 || firstData is null || reached(firstData.Value.Header))
        {
            return "first";
        }

        long lo = firstData.Value.StreamOffset, hi = lastChunk;
        while (hi - lo > 1)
        {
            var mid = lo + ((hi - lo) / 2);
            var probe = await StreamProbe.ReadAsync(connection, stream, mid, m => m.Header is { IsFence: false } || m.StreamOffset >= hi, options.ProbeTimeout, options.ProbeTimeout, ct).ConfigureAwait(false);
            var found = FirstData(probe);
            if (found is { } f && f.StreamOffset < hi && !reached(f.Header))
            {
                lo = f.StreamOffset;
            }
            else if (found is not null || (probe.Count > 0 && probe[^1].StreamOffset >= hi))
            {
                hi = mid;
            }
            else
            {
                // Nothing came back (retention moving, a slow broker): stay on the safe side.
                lo = mid;
            }
        }

        return hi;
    }

    /// <summary>
    /// The last data frames before stream offset <paramref name="end"/> (exclusive), reading back in
    /// growing windows until one holds a data frame that <paramref name="enough"/> accepts or the stream's start is reached.
    /// Returns them in stream order.
    /// </summary>
    public async Task<List<LocatedFrame>> ReadBackAsync(IConnection connection, string stream, long end, Func<LocatedFrame, bool> enough, CancellationToken ct)
    {
        var window = 64L;
        var to = end;
        var frames = new List<LocatedFrame>();
        while (to > 0)
        {
            var from = Math.Max(0, to - window);
            var stopAt = to - 1;
            var messages = await StreamProbe.ReadAsync(connection, stream, from, m => m.StreamOffset >= stopAt, options.ProbeTimeout * 10, options.ProbeTimeout * 10, ct, prefetch: 32).ConfigureAwait(false);
            if (messages.Count == 0 || messages[^1].StreamOffset < stopAt)
            {
                throw new TimeoutException($"Reading stream '{stream}' from offset {from} to {stopAt} stopped early; the broker may be restarting.");
            }

            var batch = messages.Where(m => m.StreamOffset < to && m.Header is { IsFence: false })
                .Select(m => new LocatedFrame(m.StreamOffset, m.Header!.Value)).ToList();
            frames.InsertRange(0, batch);
            if (batch.Any(enough) || messages[0].StreamOffset > from)
            {
                // Found, or retention already removed what lies before: this is the start of the stream.
                break;
            }

            to = messages[0].StreamOffset;
            window *= 4;
        }

        return frames;
    }

    /// <summary>
    /// The newest data frame of a stream nobody here is writing: the stream's end as of the call
    /// (<see cref="ReadTailAsync"/>), then further back if it holds only fences.
    /// Null when the stream holds no events.
    /// </summary>
    public async Task<LocatedFrame?> NewestAsync(IConnection connection, string stream, CancellationToken ct)
    {
        var last = await ReadTailAsync(connection, stream, ct).ConfigureAwait(false);
        if (last.Count == 0)
        {
            return null;
        }

        for (var i = last.Count - 1; i >= 0; i--)
        {
            if (last[i].Header is { IsFence: false } header)
            {
                return new LocatedFrame(last[i].StreamOffset, header);
            }
        }

        var before = await ReadBackAsync(connection, stream, last[0].StreamOffset, _ => true, ct).ConfigureAwait(false);
        return before.Count == 0 ? null : before[^1];
    }

    /// <summary>
    /// The messages at the end of the stream as of this call, in stream order: the last chunk (attach at
    /// "last") up to the stream's tail when the call began. Empty when the stream held nothing.
    /// </summary>
    /// <remarks>
    /// The tail is bounded by a consumer attached at "next" first: the first message it is sent is the first
    /// one appended after that attach. Reading "last" until deliveries paused alone never ended while a
    /// producer kept appending (issue 21: a deployment's cleansing never started, its probe buffering every
    /// new message); with the bound, it stops at the message before it, and the quiet only ends a read of a
    /// stream nobody is appending to.
    /// </remarks>
    public async Task<List<StreamMessage>> ReadTailAsync(IConnection connection, string stream, CancellationToken ct)
    {
        // Prefetch 1 without acks: the broker sends the one message that marks the bound and nothing more.
        await using var after = await StreamConsumer.AttachAsync(connection, stream, "next", prefetch: 1, ackOnReceive: false, ct).ConfigureAwait(false);
        long Bound() => after.Messages.TryPeek(out var first) ? first.StreamOffset : long.MaxValue;

        var last = await StreamProbe.ReadAsync(connection, stream, "last", m => m.StreamOffset >= Bound() - 1, options.ProbeTimeout, options.ProbeQuiet, ct, prefetch: 32).ConfigureAwait(false);
        var bound = Bound();
        if (bound == long.MaxValue)
        {
            // Nothing appended since the attach: what the quiet ended is the whole last chunk.
            return last;
        }

        var before = last.Where(m => m.StreamOffset < bound).ToList();
        if (before.Count > 0 || bound == 0)
        {
            return before;
        }

        // "last" attached after chunks appended beyond the bound: read the few messages just before it.
        var window = await StreamProbe.ReadAsync(connection, stream, Math.Max(0, bound - 64), m => m.StreamOffset >= bound - 1, options.ProbeTimeout * 10, options.ProbeTimeout * 10, ct, prefetch: 32).ConfigureAwait(false);
        return [.. window.Where(m => m.StreamOffset < bound)];
    }

    /// <summary>The oldest retained data frame, or null when the stream holds none (within the probe timeout).</summary>
    public async Task<LocatedFrame?> OldestAsync(IConnection connection, string stream, CancellationToken ct)
    {
        var first = await StreamProbe.ReadAsync(connection, stream, "first", m => m.Header is { IsFence: false }, options.ProbeTimeout, options.ProbeQuiet, ct).ConfigureAwait(false);
        return FirstData(first);
    }

    private static LocatedFrame? FirstData(List<StreamMessage> messages)
    {
        foreach (var message in messages)
        {
            if (message.Header is { IsFence: false } header)
            {
                return new LocatedFrame(message.StreamOffset, header);
            }
        }

        return null;
    }
}
