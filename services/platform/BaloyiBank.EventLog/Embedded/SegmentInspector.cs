namespace BaloyiBank.EventLog.Embedded;

/// <summary>Where a segment's valid data ends, as found by a reader that does not own the partition.</summary>
/// <param name="LastTimestampTicks">Enqueue time of the segment's last frame, or null when it holds none.</param>
internal readonly record struct SegmentEnd(long SegmentBase, long Position, long NextOffset, long? LastTimestampTicks);

/// <summary>Small read-only probes of segment files, starting from their sparse index.</summary>
internal static class SegmentInspector
{
    /// <summary>
    /// The end of the valid frames of a segment: from its last index entry, checks frames until
    /// the file ends or a frame is incomplete or damaged (a torn tail ends the data too).
    /// </summary>
    public static SegmentEnd FindEnd(string directory, long segmentBase)
    {
        using var handle = OpenRead(SegmentFiles.LogPath(directory, segmentBase));
        if (handle is null)
        {
            return new(segmentBase, 0, segmentBase, null);
        }

        var length = RandomAccess.GetLength(handle);
        var entries = SegmentFiles.ReadIndex(SegmentFiles.IndexPath(directory, segmentBase), segmentBase, length);
        using var frames = new SegmentFrameReader(256 * 1024);
        frames.Attach(handle);
        var start = entries.Count > 0 ? entries[^1] : new IndexEntry(segmentBase, 0, 0);
        var end = Walk(frames, segmentBase, start, length, verifyBodies: true);
        if (end.Position == start.Position && start.Position > 0)
        {
            // The index pointed at nothing valid: do not trust it.
            frames.Invalidate();
            end = Walk(frames, segmentBase, new IndexEntry(segmentBase, 0, 0), length, verifyBodies: true);
        }

        return end;
    }

    /// <summary>Enqueue time of the newest record of a (sealed) segment, read from the end of its index.</summary>
    public static long? NewestTimestamp(string directory, long segmentBase)
    {
        using var handle = OpenRead(SegmentFiles.LogPath(directory, segmentBase));
        if (handle is null)
        {
            return null;
        }

        var length = RandomAccess.GetLength(handle);
        var entries = SegmentFiles.ReadIndex(SegmentFiles.IndexPath(directory, segmentBase), segmentBase, length);
        using var frames = new SegmentFrameReader(4096);
        frames.Attach(handle);
        var start = entries.Count > 0 ? entries[^1] : new IndexEntry(segmentBase, 0, 0);
        return Walk(frames, segmentBase, start, length, verifyBodies: false).LastTimestampTicks;
    }

    /// <summary>Enqueue time of a segment's first frame, or null when it has none yet.</summary>
    public static long? OldestTimestamp(string directory, long segmentBase)
    {
        using var handle = OpenRead(SegmentFiles.LogPath(directory, segmentBase));
        if (handle is null)
        {
            return null;
        }

        using var frames = new SegmentFrameReader(FrameFormat.HeaderSize);
        frames.Attach(handle);
        return frames.TryRead(0, RandomAccess.GetLength(handle), loadBody: false, out var header) == FrameStatus.Ok
            ? header.TimestampTicks
            : null;
    }

    public static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenRead(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static SegmentEnd Walk(SegmentFrameReader frames, long segmentBase, IndexEntry start, long length, bool verifyBodies)
    {
        var position = start.Position;
        var next = start.BaseOffset;
        long? last = null;
        while (frames.TryRead(position, length, verifyBodies, out var header) == FrameStatus.Ok && header.BaseOffset == next)
        {
            position += header.FrameLength;
            next = header.NextOffset;
            last = header.TimestampTicks;
        }

        return new(segmentBase, position, next, last);
    }
}
