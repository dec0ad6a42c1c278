using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// Encodes one partition's share of an append into a single frame in a pooled buffer, so the
/// writer issues one write per partition per batch and the append path allocates nothing per event.
/// </summary>
internal sealed class FrameBuilder : IDisposable
{
    private byte[] _buffer;
    private int _length = FrameFormat.HeaderSize;

    public FrameBuilder(int initialCapacity) =>
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 4096, FrameFormat.MaxFrameBytes));

    public int Count { get; private set; }

    public int Length => _length;

    /// <summary>The whole frame, header included (the header is filled by <see cref="WriteHeader"/>).</summary>
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _length);

    public uint ComputeBodyCrc() => Crc32C.Compute(_buffer.AsSpan(FrameFormat.HeaderSize, _length - FrameFormat.HeaderSize));

    public void WriteHeader(in FrameHeader header) => header.WriteTo(_buffer);

    /// <summary>Appends one record; on an invalid event nothing is written and the frame is unchanged.</summary>
    public void Add(ReadOnlySpan<byte> utf8Key, ReadOnlySpan<byte> value, EventHeaders? headers)
    {
        if (utf8Key.Length > FrameFormat.MaxKeyBytes)
        {
            throw new ArgumentException($"The key is {utf8Key.Length} bytes in UTF-8; the event log allows at most {FrameFormat.MaxKeyBytes}.");
        }

        var headerCount = headers?.Count ?? 0;
        if (headerCount > FrameFormat.MaxHeaderCount)
        {
            throw new ArgumentException($"The event has {headerCount} headers; the event log allows at most {FrameFormat.MaxHeaderCount}.");
        }

        // Worst case first, so one capacity check covers the whole record.
        long worstCase = FrameFormat.RecordFixedSize + utf8Key.Length + value.Length;
        for (var i = 0; i < headerCount; i++)
        {
            var pair = headers![i];
            worstCase += 4 + Encoding.UTF8.GetMaxByteCount(pair.Key?.Length ?? 0) + Encoding.UTF8.GetMaxByteCount(pair.Value?.Length ?? 0);
        }

        if (_length + worstCase > _buffer.Length)
        {
            // Only when the cheap bound does not fit: measure exactly, so an exactly sized buffer never grows.
            worstCase = EncodedSize(utf8Key, value, headers);
            EnsureFits(_length + worstCase);
        }

        EnsureCapacity(_length + (int)worstCase);

        var record = _buffer.AsSpan(_length);
        var position = FrameFormat.RecordFixedSize;
        utf8Key.CopyTo(record[position..]);
        position += utf8Key.Length;
        for (var i = 0; i < headerCount; i++)
        {
            var (name, headerValue) = headers![i];
            var nameLength = Encoding.UTF8.GetBytes(name ?? throw new ArgumentException("A header name is null."), record[(position + 4)..]);
            var valueLength = Encoding.UTF8.GetBytes(headerValue ?? string.Empty, record[(position + 4 + nameLength)..]);
            if (nameLength > FrameFormat.MaxHeaderPartBytes || valueLength > FrameFormat.MaxHeaderPartBytes)
            {
                throw new ArgumentException($"Header '{name}' is too long: names and values are limited to {FrameFormat.MaxHeaderPartBytes} bytes of UTF-8.");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(record[position..], (ushort)nameLength);
            BinaryPrimitives.WriteUInt16LittleEndian(record[(position + 2)..], (ushort)valueLength);
            position += 4 + nameLength + valueLength;
        }

        value.CopyTo(record[position..]);
        position += value.Length;

        BinaryPrimitives.WriteInt32LittleEndian(record, position - FrameFormat.RecordLengthPrefix);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(record[8..], (ushort)utf8Key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(record[10..], (ushort)headerCount);
        _length += position;
        Count++;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static long EncodedSize(ReadOnlySpan<byte> utf8Key, ReadOnlySpan<byte> value, EventHeaders? headers)
    {
        long size = FrameFormat.RecordFixedSize + utf8Key.Length + value.Length;
        for (var i = 0; i < (headers?.Count ?? 0); i++)
        {
            var (name, headerValue) = headers![i];
            size += 4 + Encoding.UTF8.GetByteCount(name ?? string.Empty) + Encoding.UTF8.GetByteCount(headerValue ?? string.Empty);
        }

        return size;
    }

    private static void EnsureFits(long frameLength)
    {
        if (frameLength > FrameFormat.MaxFrameBytes)
        {
            throw new ArgumentException(
                $"One partition's share of this append would be {frameLength:N0} bytes; a single append may write at most {FrameFormat.MaxFrameBytes:N0} bytes to one partition. Split the batch.");
        }
    }

    private void EnsureCapacity(int required)
    {
        if (required <= _buffer.Length)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(required, (long)_buffer.Length * 2), FrameFormat.MaxFrameBytes));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }
}
