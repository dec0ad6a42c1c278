using System.Buffers.Binary;
using System.Text;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// Turns stored records into <see cref="LogRecord"/>s. Header names and repeated header values
/// (content types, producer names) come from a small cache instead of a new string per record.
/// </summary>
internal sealed class RecordDecoder
{
    private const int CacheSlots = 64;
    private const int MaxCachedBytes = 128;

    private readonly CachedString?[] _cache = new CachedString?[CacheSlots];

    /// <summary>Decodes one record (the bytes after its length prefix); throws <see cref="FormatException"/> if it is malformed.</summary>
    public LogRecord Decode(int partition, long offset, DateTimeOffset enqueuedAt, ReadOnlySpan<byte> record)
    {
        if (record.Length < FrameFormat.RecordFixedSize - FrameFormat.RecordLengthPrefix)
        {
            throw new FormatException("record shorter than its fixed fields");
        }

        var valueLength = BinaryPrimitives.ReadInt32LittleEndian(record);
        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
        int headerCount = BinaryPrimitives.ReadUInt16LittleEndian(record[6..]);
        var at = 8;
        var key = Encoding.UTF8.GetString(Slice(record, at, keyLength));
        at += keyLength;

        var headers = EventHeaders.Empty;
        if (headerCount > 0)
        {
            var pairs = new KeyValuePair<string, string>[headerCount];
            for (var i = 0; i < headerCount; i++)
            {
                var lengths = Slice(record, at, 4);
                int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(lengths);
                int headerValueLength = BinaryPrimitives.ReadUInt16LittleEndian(lengths[2..]);
                var name = DecodeName(Slice(record, at + 4, nameLength));
                var value = DecodeValue(name, Slice(record, at + 4 + nameLength, headerValueLength));
                pairs[i] = new(name, value);
                at += 4 + nameLength + headerValueLength;
            }

            headers = new EventHeaders(pairs);
        }

        if (valueLength < 0 || at + valueLength != record.Length)
        {
            throw new FormatException("record lengths do not add up");
        }

        ReadOnlyMemory<byte> payload = valueLength == 0 ? ReadOnlyMemory<byte>.Empty : record.Slice(at, valueLength).ToArray();
        return new LogRecord(partition, offset, enqueuedAt, key, payload, headers);
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> record, int start, int length) =>
        start + length <= record.Length ? record.Slice(start, length) : throw new FormatException("record field runs past the record");

    private string DecodeName(ReadOnlySpan<byte> utf8)
    {
        if (utf8.SequenceEqual("traceparent"u8))
        {
            return EventHeaders.TraceParent;
        }

        if (utf8.SequenceEqual("tracestate"u8))
        {
            return EventHeaders.TraceState;
        }

        return utf8.SequenceEqual("content-type"u8) ? EventHeaders.ContentType : Cached(utf8);
    }

    private string DecodeValue(string name, ReadOnlySpan<byte> utf8) =>
        // Trace context differs on every event: caching it would only churn the cache.
        ReferenceEquals(name, EventHeaders.TraceParent) || ReferenceEquals(name, EventHeaders.TraceState)
            ? Encoding.UTF8.GetString(utf8)
            : Cached(utf8);

    private string Cached(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (utf8.Length > MaxCachedBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var slot = (int)(Crc32C.Compute(utf8) % CacheSlots);
        if (_cache[slot] is { } hit && utf8.SequenceEqual(hit.Utf8))
        {
            return hit.Value;
        }

        var value = Encoding.UTF8.GetString(utf8);
        _cache[slot] = new CachedString(utf8.ToArray(), value);
        return value;
    }

    private sealed record CachedString(byte[] Utf8, string Value);
}
