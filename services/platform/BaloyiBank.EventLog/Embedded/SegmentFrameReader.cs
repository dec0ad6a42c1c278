using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace BaloyiBank.EventLog.Embedded;

internal enum FrameStatus
{
    Ok,
    /// <summary>No bytes at the position: the end of the data.</summary>
    End,
    /// <summary>Fewer bytes than a header, or a valid header whose frame runs past the end.</summary>
    Truncated,
    /// <summary>Bytes that are not a valid frame header (magic, checksum or fields).</summary>
    BadHeader,
    /// <summary>A valid header whose records fail their checksum.</summary>
    BadBody,
}

/// <summary>
/// Reads and checks frames of one segment file through a read-ahead buffer (one read
/// call per buffer, not per frame). A frame's records stay in <see cref="Buffer"/> until the next read.
/// </summary>
internal sealed class SegmentFrameReader(int bufferSize) : IDisposable
{
    private SafeFileHandle? _handle;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    private long _bufferStart;
    private int _bufferCount;

    /// <summary>Bytes read from files so far (tests use it to prove seeks do not scan).</summary>
    public long BytesRead { get; private set; }

    public byte[] Buffer => _buffer;

    public void Attach(SafeFileHandle handle)
    {
        _handle = handle;
        Invalidate();
    }

    /// <summary>Forgets buffered bytes; needed where a file may have changed under us (a repaired torn tail).</summary>
    public void Invalidate() => _bufferCount = 0;

    /// <summary>Index in <see cref="Buffer"/> of a file position that the last successful read covered.</summary>
    public int BufferIndex(long position) => checked((int)(position - _bufferStart));

    public FrameStatus TryRead(long position, long limit, bool loadBody, out FrameHeader header)
    {
        header = default;
        if (position >= limit)
        {
            return FrameStatus.End;
        }

        if (limit - position < FrameFormat.HeaderSize || !Ensure(position, FrameFormat.HeaderSize, limit, readAhead: loadBody))
        {
            return FrameStatus.Truncated;
        }

        if (!FrameHeader.TryRead(_buffer.AsSpan(BufferIndex(position), FrameFormat.HeaderSize), out header))
        {
            return FrameStatus.BadHeader;
        }

        if (position + header.FrameLength > limit)
        {
            return FrameStatus.Truncated;
        }

        if (!loadBody)
        {
            return FrameStatus.Ok;
        }

        if (!Ensure(position, header.FrameLength, limit, readAhead: true))
        {
            return FrameStatus.Truncated;
        }

        var body = _buffer.AsSpan(BufferIndex(position) + FrameFormat.HeaderSize, header.BodyLength);
        return Crc32C.Compute(body) == header.BodyCrc ? FrameStatus.Ok : FrameStatus.BadBody;
    }

    /// <summary>
    /// Whether a complete, checksummed frame starts anywhere in [<paramref name="from"/>, <paramref name="limit"/>).
    /// Tells a torn tail (nothing valid after the damage) from corruption (valid data after it).
    /// </summary>
    public static bool HasValidFrameFrom(SafeFileHandle handle, long from, long limit)
    {
        const int chunkSize = 1 << 20;
        var magicLength = FrameFormat.MagicBytes.Length;
        using var probe = new SegmentFrameReader(64 * 1024);
        probe.Attach(handle);
        var chunk = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            var position = from;
            while (position < limit)
            {
                var read = RandomAccess.Read(handle, chunk.AsSpan(0, (int)Math.Min(chunkSize, limit - position)), position);
                if (read <= 0)
                {
                    return false;
                }

                var span = chunk.AsSpan(0, read);
                var at = 0;
                while (at < span.Length)
                {
                    var found = span[at..].IndexOf(FrameFormat.MagicBytes);
                    if (found < 0)
                    {
                        break;
                    }

                    if (probe.TryRead(position + at + found, limit, loadBody: true, out _) == FrameStatus.Ok)
                    {
                        return true;
                    }

                    at += found + 1;
                }

                if (position + read >= limit)
                {
                    return false;
                }

                // Overlap by a magic's length so a magic split across two chunks is still seen.
                position += Math.Max(1, read - magicLength + 1);
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _bufferCount = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool Ensure(long position, int length, long limit, bool readAhead)
    {
        if (position >= _bufferStart && position + length <= _bufferStart + _bufferCount)
        {
            return true;
        }

        var handle = _handle ?? throw new InvalidOperationException("No segment attached.");
        if (length > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        var want = readAhead ? (int)Math.Max(length, Math.Min(_buffer.Length, limit - position)) : length;
        var read = 0;
        while (read < want)
        {
            var n = RandomAccess.Read(handle, _buffer.AsSpan(read, want - read), position + read);
            if (n <= 0)
            {
                break;
            }

            read += n;
        }

        BytesRead += read;
        _bufferStart = position;
        _bufferCount = read;
        return read >= length;
    }
}
