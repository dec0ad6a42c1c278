using System.Buffers.Binary;
using System.Globalization;

namespace BaloyiBank.EventLog.CrashWriter;

/// <summary>
/// Events derived from a sequence number alone, so a test can check any record it reads back
/// without knowing what the killed child managed to write.
/// </summary>
public static class CrashPayload
{
    /// <summary>Sequence numbers of run r are r * 2^32 + 0, 1, 2…: they grow across restarts.</summary>
    public static long Sequence(int run, long counter) => ((long)run << 32) + counter;

    public static string KeyFor(long sequence) =>
        "acct-" + ((ulong)sequence * 2654435761UL % 1000).ToString("D4", CultureInfo.InvariantCulture);

    public static byte[] ValueFor(long sequence)
    {
        var length = 8 + (int)((ulong)sequence * 40503UL % 600);
        var value = new byte[length];
        BinaryPrimitives.WriteInt64LittleEndian(value, sequence);
        var state = (ulong)sequence | 1;
        for (var i = 8; i < length; i++)
        {
            // xorshift: cheap deterministic filler.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            value[i] = (byte)state;
        }

        return value;
    }

    public static EventHeaders HeadersFor(long sequence) => new(
        new(EventHeaders.TraceParent, $"00-{sequence:x32}-{sequence & 0xffff:x16}-01"),
        new(EventHeaders.ContentType, "application/octet-stream"));

    public static long SequenceOf(ReadOnlySpan<byte> value) => BinaryPrimitives.ReadInt64LittleEndian(value);
}
