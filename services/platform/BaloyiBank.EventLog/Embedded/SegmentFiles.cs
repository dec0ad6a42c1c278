using System.Buffers.Binary;
using System.Globalization;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>One sparse-index entry: a frame's first offset, its byte position and its enqueue time.</summary>
internal readonly record struct IndexEntry(long BaseOffset, long Position, long TimestampTicks)
{
    public const int Size = 24;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, BaseOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Position);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], TimestampTicks);
    }

    public static IndexEntry ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadInt64LittleEndian(source),
        BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
        BinaryPrimitives.ReadInt64LittleEndian(source[16..]));
}

/// <summary>
/// Partition folder layout, Kafka style: <c>partition-0003/00000000000000004096.log</c> holds
/// the frames from offset 4096 on; <c>.idx</c> beside it is its sparse index.
/// </summary>
internal static class SegmentFiles
{
    public const string LogExtension = ".log";
    public const string IndexExtension = ".idx";
    public const string LockFileName = "writer.lock";
    public const string PidFileName = "writer.pid";

    public static string PartitionDirectory(string root, int partition) =>
        Path.Combine(root, "partition-" + partition.ToString("D4", CultureInfo.InvariantCulture));

    public static string LogPath(string directory, long baseOffset) =>
        Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + LogExtension);

    public static string IndexPath(string directory, long baseOffset) =>
        Path.Combine(directory, baseOffset.ToString("D20", CultureInfo.InvariantCulture) + IndexExtension);

    /// <summary>Base offsets of the partition's segments, oldest first.</summary>
    public static long[] ListSegments(string directory) => ListBases(directory, LogExtension);

    public static long[] ListBases(string directory, string extension)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var bases = new List<long>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + extension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var baseOffset))
            {
                bases.Add(baseOffset);
            }
        }

        bases.Sort();
        return [.. bases];
    }

    /// <summary>
    /// Reads a segment's index and keeps its longest consistent prefix: the first entry at byte 0
    /// with the segment's base offset, then strictly growing offsets and positions inside the
    /// segment, and non-decreasing times. The index only speeds up seeks; readers check the
    /// frame it points at, so a damaged index costs a scan, never a wrong answer.
    /// </summary>
    public static List<IndexEntry> ReadIndex(string indexPath, long segmentBase, long segmentLength)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(indexPath);
        }
        catch (FileNotFoundException)
        {
            return [];
        }

        var entries = new List<IndexEntry>(bytes.Length / IndexEntry.Size);
        for (var at = 0; at + IndexEntry.Size <= bytes.Length; at += IndexEntry.Size)
        {
            var entry = IndexEntry.ReadFrom(bytes.AsSpan(at));
            var consistent = entries.Count == 0
                ? entry.BaseOffset == segmentBase && entry.Position == 0
                : entry.BaseOffset > entries[^1].BaseOffset && entry.Position > entries[^1].Position && entry.TimestampTicks >= entries[^1].TimestampTicks;
            if (!consistent || entry.Position >= segmentLength)
            {
                break;
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>The last entry at or before <paramref name="offset"/>, or null.</summary>
    public static IndexEntry? FloorByOffset(List<IndexEntry> entries, long offset)
    {
        int lo = 0, hi = entries.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (entries[mid].BaseOffset <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? null : entries[found];
    }

    /// <summary>The last entry enqueued strictly before <paramref name="ticks"/>, or null: nothing before it can qualify.</summary>
    public static IndexEntry? LastBefore(List<IndexEntry> entries, long ticks)
    {
        int lo = 0, hi = entries.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (entries[mid].TimestampTicks < ticks)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? null : entries[found];
    }
}
