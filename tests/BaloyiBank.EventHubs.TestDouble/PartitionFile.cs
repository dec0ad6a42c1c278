using System.Buffers.Binary;
using System.Text;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>
/// A partition's file: records back to back, each <c>[int32 length][int64 sequence][int64 offset][int64 enqueued
/// Unix ms][int32 key length, -1 = none][key UTF-8][message]</c>, little-endian. A torn last record (the process
/// died mid-write) is cut off at load.
/// </summary>
internal static class PartitionFile
{
    private const int FixedBytes = 8 + 8 + 8 + 4;

    public static List<StoredEvent> ReadAll(FileStream file)
    {
        var events = new List<StoredEvent>();
        file.Position = 0;
        var lengthBytes = new byte[4];
        long good = 0;
        while (file.ReadAtLeast(lengthBytes, 4, throwOnEndOfStream: false) == 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
            if (length < FixedBytes || length > file.Length - file.Position)
            {
                break;
            }

            var record = new byte[length];
            file.ReadExactly(record);
            var span = record.AsSpan();
            var keyLength = BinaryPrimitives.ReadInt32LittleEndian(span[24..]);
            if (keyLength > length - FixedBytes)
            {
                break;
            }

            var key = keyLength < 0 ? null : Encoding.UTF8.GetString(span.Slice(FixedBytes, keyLength));
            var messageStart = FixedBytes + Math.Max(keyLength, 0);
            events.Add(new StoredEvent(
                BinaryPrimitives.ReadInt64LittleEndian(span),
                BinaryPrimitives.ReadInt64LittleEndian(span[8..]),
                DateTime.UnixEpoch.AddMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[16..])),
                key,
                span[messageStart..].ToArray()));
            good = file.Position;
        }

        file.SetLength(good);
        file.Position = good;
        return events;
    }

    public static void Append(FileStream file, IReadOnlyList<StoredEvent> events)
    {
        using var buffer = new MemoryStream();
        Span<byte> fixedPart = stackalloc byte[4 + FixedBytes];
        foreach (var e in events)
        {
            var key = e.PartitionKey is null ? null : Encoding.UTF8.GetBytes(e.PartitionKey);
            var length = FixedBytes + (key?.Length ?? 0) + e.Message.Length;
            BinaryPrimitives.WriteInt32LittleEndian(fixedPart, length);
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[4..], e.SequenceNumber);
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[12..], e.Offset);
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[20..], new DateTimeOffset(e.EnqueuedTimeUtc, TimeSpan.Zero).ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt32LittleEndian(fixedPart[28..], key?.Length ?? -1);
            buffer.Write(fixedPart);
            if (key is not null)
            {
                buffer.Write(key);
            }

            buffer.Write(e.Message);
        }

        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        file.Flush(flushToDisk: false);
    }
}
