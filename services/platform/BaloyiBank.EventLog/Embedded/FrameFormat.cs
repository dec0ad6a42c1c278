using System.Buffers.Binary;

namespace BaloyiBank.EventLog.Embedded;

// On-disk format, version 1 (little-endian throughout).
//
// A segment file holds frames back to back; one frame is one append to one partition, so a
// batch is all-or-nothing: its records become visible together or not at all.
//
// Frame header, 48 bytes:
//    0 u32 magic "BBLG"          4 i32 frame length (header included)
//    8 i64 base offset          16 i32 record count
//   20 u16 format version       22 u16 flags (0)
//   24 i64 enqueue time (UTC ticks, shared by the frame's records, non-decreasing per partition)
//   32 i64 reserved (0)         40 u32 CRC-32C of the records
//   44 u32 CRC-32C of bytes 0..43
//
// Record (offset = base offset + index in frame):
//   i32 length of the rest of the record, i32 value length, u16 key length, u16 header count,
//   key (UTF-8), headers (u16 name length, u16 value length, name, value; UTF-8), value.
internal static class FrameFormat
{
    public const uint Magic = 0x474C4242; // "BBLG" read as little-endian bytes
    public const ushort Version = 1;
    public const int HeaderSize = 48;
    public const int RecordFixedSize = 12;
    public const int RecordLengthPrefix = 4;
    public const int MaxFrameBytes = 1 << 30;
    public const int MaxKeyBytes = ushort.MaxValue;
    public const int MaxHeaderCount = ushort.MaxValue;
    public const int MaxHeaderPartBytes = ushort.MaxValue;

    public static ReadOnlySpan<byte> MagicBytes => "BBLG"u8;
}

internal readonly record struct FrameHeader(int FrameLength, long BaseOffset, int RecordCount, long TimestampTicks, uint BodyCrc)
{
    public long NextOffset => BaseOffset + RecordCount;

    public int BodyLength => FrameLength - FrameFormat.HeaderSize;

    public void WriteTo(Span<byte> destination)
    {
        var header = destination[..FrameFormat.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, FrameFormat.Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], FrameLength);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], BaseOffset);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], RecordCount);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], FrameFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], TimestampTicks);
        BinaryPrimitives.WriteInt64LittleEndian(header[32..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], BodyCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[44..], Crc32C.Compute(header[..44]));
    }

    /// <summary>Parses and checks a header: magic, header checksum, version and sane fields.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        header = default;
        if (source.Length < FrameFormat.HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(source) != FrameFormat.Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(source[44..]) != Crc32C.Compute(source[..44])
            || BinaryPrimitives.ReadUInt16LittleEndian(source[20..]) != FrameFormat.Version)
        {
            return false;
        }

        var frameLength = BinaryPrimitives.ReadInt32LittleEndian(source[4..]);
        var baseOffset = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(source[16..]);
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(source[24..]);
        if (count < 1 || baseOffset < 0
            || frameLength < FrameFormat.HeaderSize + ((long)count * FrameFormat.RecordFixedSize) || frameLength > FrameFormat.MaxFrameBytes
            || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        header = new(frameLength, baseOffset, count, ticks, BinaryPrimitives.ReadUInt32LittleEndian(source[40..]));
        return true;
    }
}
