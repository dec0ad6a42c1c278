using System.Buffers.Binary;
using System.Text;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// One AMQP message body: a 56-byte header, then <see cref="Count"/> records packed back to back.
/// A data frame holds the events with offsets <see cref="FirstOffset"/> … FirstOffset + Count - 1
/// of its partition, so offsets stay dense and a reader recovers every event's offset from the
/// frame alone. A fence (Count 0, FirstOffset -1) carries no events: a producer writes one to
/// find the end of the stream (see <see cref="PartitionWriter"/>); readers skip it.
/// </summary>
/// <remarks>
/// Header, little-endian: magic "BBR1" (u32), flags (u16, bit 0 = fence), header length (u16),
/// first offset (i64), count (i32), reserved (i32), enqueue time (UTC ticks, i64), writer id
/// (16 bytes), writer sequence (i64). Record: varint key length, key (UTF-8), varint header
/// count, per header varint name length, name, varint value length, value (UTF-8), then varint
/// value length and the value bytes.
/// </remarks>
internal readonly record struct FrameHeader(bool IsFence, long FirstOffset, int Count, long EnqueuedTicks, Guid WriterId, long WriterSequence)
{
    public long EndOffset => FirstOffset + Count;

    public DateTimeOffset EnqueuedAt => new(EnqueuedTicks, TimeSpan.Zero);
}

internal static class FrameCodec
{
    public const uint Magic = 0x31524242; // "BBR1"
    public const int HeaderBytes = 56;
    private const ushort FenceFlag = 1;

    /// <summary>Bytes one event takes in a frame.</summary>
    public static int RecordSize(in OutgoingEvent e)
    {
        var size = VarSize(Encoding.UTF8.GetByteCount(e.Key)) + Encoding.UTF8.GetByteCount(e.Key);
        size += VarSize(e.Headers.Count);
        foreach (var (name, value) in e.Headers)
        {
            var n = Encoding.UTF8.GetByteCount(name);
            var v = Encoding.UTF8.GetByteCount(value);
            size += VarSize(n) + n + VarSize(v) + v;
        }

        return size + VarSize(e.Value.Length) + e.Value.Length;
    }

    /// <summary>Writes a frame of <paramref name="events"/>[start..start+count) into a new array.</summary>
    public static byte[] Encode(IReadOnlyList<OutgoingEvent> events, int start, int count, int bodyBytes, in FrameHeader header)
    {
        var buffer = new byte[HeaderBytes + bodyBytes];
        WriteHeader(buffer, header);
        var span = buffer.AsSpan(HeaderBytes);
        for (var i = start; i < start + count; i++)
        {
            var e = events[i];
            WriteString(ref span, e.Key);
            WriteVar(ref span, e.Headers.Count);
            foreach (var (name, value) in e.Headers)
            {
                WriteString(ref span, name);
                WriteString(ref span, value);
            }

            WriteVar(ref span, e.Value.Length);
            e.Value.Span.CopyTo(span);
            span = span[e.Value.Length..];
        }

        if (!span.IsEmpty)
        {
            throw new InvalidOperationException($"Frame size mismatch: {span.Length} bytes left over.");
        }

        return buffer;
    }

    public static byte[] EncodeFence(Guid writerId, long writerSequence, long enqueuedTicks)
    {
        var buffer = new byte[HeaderBytes];
        WriteHeader(buffer, new FrameHeader(true, -1, 0, enqueuedTicks, writerId, writerSequence));
        return buffer;
    }

    /// <summary>Reads the header, or null when the body is not a frame of this format (a foreign message in the stream).</summary>
    public static FrameHeader? TryReadHeader(ReadOnlySpan<byte> body)
    {
        if (body.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(body) != Magic)
        {
            return null;
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(body[4..]);
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(body[6..]);
        if (headerLength < HeaderBytes || headerLength > body.Length)
        {
            return null;
        }

        return new FrameHeader(
            (flags & FenceFlag) != 0,
            BinaryPrimitives.ReadInt64LittleEndian(body[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(body[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(body[24..]),
            new Guid(body.Slice(32, 16)),
            BinaryPrimitives.ReadInt64LittleEndian(body[48..]));
    }

    /// <summary>Decodes the records of a data frame; values are slices of <paramref name="body"/>, not copies.</summary>
    public static LogRecord[] Decode(ReadOnlyMemory<byte> body, in FrameHeader header, int partition)
    {
        var records = new LogRecord[header.Count];
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(body.Span[6..]);
        var position = (int)headerLength;
        var enqueuedAt = header.EnqueuedAt;
        for (var i = 0; i < header.Count; i++)
        {
            var span = body.Span;
            var key = ReadString(span, ref position);
            var headerCount = ReadVar(span, ref position);
            EventHeaders headers;
            if (headerCount == 0)
            {
                headers = EventHeaders.Empty;
            }
            else
            {
                var pairs = new KeyValuePair<string, string>[headerCount];
                for (var h = 0; h < headerCount; h++)
                {
                    var name = ReadString(span, ref position);
                    pairs[h] = new(name, ReadString(span, ref position));
                }

                headers = new EventHeaders(pairs);
            }

            var valueLength = ReadVar(span, ref position);
            if (valueLength > span.Length - position)
            {
                throw Damaged(partition, header, "a value runs past the end of the message");
            }

            records[i] = new LogRecord(partition, header.FirstOffset + i, enqueuedAt, key, body.Slice(position, valueLength), headers);
            position += valueLength;
        }

        if (position != body.Length)
        {
            throw Damaged(partition, header, $"{body.Length - position} bytes follow the last record");
        }

        return records;

        static string ReadString(ReadOnlySpan<byte> span, ref int position)
        {
            var length = ReadVar(span, ref position);
            if (length > span.Length - position)
            {
                throw new EventLogCorruptionException("A string runs past the end of a RabbitMQ event-log message.");
            }

            var text = length == 0 ? string.Empty : Encoding.UTF8.GetString(span.Slice(position, length));
            position += length;
            return text;
        }
    }

    private static EventLogCorruptionException Damaged(int partition, in FrameHeader header, string reason) =>
        new($"RabbitMQ event-log partition {partition}: the message holding offsets {header.FirstOffset}-{header.EndOffset - 1} is damaged ({reason}).");

    private static void WriteHeader(Span<byte> buffer, in FrameHeader header)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], header.IsFence ? FenceFlag : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], HeaderBytes);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], header.FirstOffset);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[16..], header.Count);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[20..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[24..], header.EnqueuedTicks);
        header.WriterId.TryWriteBytes(buffer.Slice(32, 16));
        BinaryPrimitives.WriteInt64LittleEndian(buffer[48..], header.WriterSequence);
    }

    private static void WriteString(ref Span<byte> span, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteVar(ref span, length);
        Encoding.UTF8.GetBytes(text, span);
        span = span[length..];
    }

    private static int VarSize(int value) => value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;

    private static void WriteVar(ref Span<byte> span, int value)
    {
        var v = (uint)value;
        var i = 0;
        while (v >= 0x80)
        {
            span[i++] = (byte)(v | 0x80);
            v >>= 7;
        }

        span[i++] = (byte)v;
        span = span[i..];
    }

    private static int ReadVar(ReadOnlySpan<byte> span, ref int position)
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (position >= span.Length)
            {
                throw new EventLogCorruptionException("A length runs past the end of a RabbitMQ event-log message.");
            }

            var b = span[position++];
            value |= (uint)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value <= int.MaxValue ? (int)value : throw new EventLogCorruptionException("A length in a RabbitMQ event-log message is out of range.");
            }
        }

        throw new EventLogCorruptionException("A length in a RabbitMQ event-log message is malformed.");
    }
}
