using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// The single writer of one partition: holds its lock file, appends frames to the active segment,
/// rolls segments, keeps the sparse index and applies retention. Offsets and enqueue times are
/// assigned under a per-partition lock held only for the write itself.
/// </summary>
internal sealed class PartitionWriter : IDisposable
{
    private const FileShare SharedAccess = FileShare.ReadWrite | FileShare.Delete;

    private readonly LogContext _log;
    private readonly PartitionState _state;
    private readonly FileStream _lockFile;
    private readonly Lock _gate = new();
    private SafeFileHandle? _segment;
    private SafeFileHandle? _index;
    private long _segmentBase;
    private long _segmentLength;
    private long _indexLength;
    private long _lastIndexedPosition;
    private long _writeBehindFrom;
    private long _nextOffset;
    private long _lastTimestamp = long.MinValue;
    private IndexEntry? _lastFrame;
    private bool _faulted;
    private bool _disposed;

    private PartitionWriter(LogContext log, PartitionState state, FileStream lockFile)
    {
        _log = log;
        _state = state;
        _lockFile = lockFile;
    }

    /// <summary>Bytes of torn tail cut off when this writer opened (tests and logs).</summary>
    public long TruncatedTailBytes { get; private set; }

    private string Directory => _state.Directory;

    public static PartitionWriter Open(LogContext log, PartitionState state)
    {
        System.IO.Directory.CreateDirectory(state.Directory);
        var writer = new PartitionWriter(log, state, AcquireLock(log, state));
        try
        {
            writer.Recover();
            return writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>Appends one frame; returns the offset of its first record. All of it lands, or none.</summary>
    public long Append(FrameBuilder frame)
    {
        var bodyCrc = frame.ComputeBodyCrc();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_faulted)
            {
                throw new IOException(
                    $"Event log '{_log.Name}' partition {_state.Partition} stopped accepting appends after a failed write it could not undo. " +
                    "Reopen the log: the next writer repairs the partition's tail.");
            }

            if (_segmentLength > 0 && _segmentLength + frame.Length > _log.Options.SegmentBytes)
            {
                Roll();
            }

            var baseOffset = _nextOffset;
            var ticks = Math.Max(_log.Options.TimeProvider.GetUtcNow().UtcTicks, _lastTimestamp);
            frame.WriteHeader(new FrameHeader(frame.Length, baseOffset, frame.Count, ticks, bodyCrc));
            var position = _segmentLength;
            try
            {
                RandomAccess.Write(_segment!, frame.Frame, position);
                if (_log.Options.FsyncOnAppend)
                {
                    RandomAccess.FlushToDisk(_segment!);
                }
            }
            catch
            {
                Undo(position);
                throw;
            }

            _segmentLength = position + frame.Length;
            if (!_log.Options.FsyncOnAppend && _segmentLength - _writeBehindFrom >= _log.Options.WriteBehindBytes && _log.Options.WriteBehindBytes > 0)
            {
                WriteBehind.Start(_segment!, _writeBehindFrom, _segmentLength - _writeBehindFrom);
                _writeBehindFrom = _segmentLength;
            }

            _nextOffset = baseOffset + frame.Count;
            _lastTimestamp = ticks;
            var written = new IndexEntry(baseOffset, position, ticks);
            _lastFrame = written;
            if (position == 0 || position - _lastIndexedPosition >= _log.Options.IndexIntervalBytes)
            {
                AppendIndexEntry(written);
            }

            _state.Publish(new CommittedEnd(_segmentBase, _segmentLength, _nextOffset, ticks));
            return baseOffset;
        }
    }

    /// <summary>Deletes sealed segments whose newest record is older than the retention period, oldest first.</summary>
    public int ApplyRetention(DateTimeOffset now)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ApplyRetentionLocked(now);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                // A clean close is durable whatever FsyncOnAppend says.
                if (!_faulted && _segment is not null && _index is not null)
                {
                    RandomAccess.FlushToDisk(_segment);
                    RandomAccess.FlushToDisk(_index);
                }
            }
            catch (IOException)
            {
                // Closing must not fail; an unflushed tail is what a crash would leave, and the next writer checks it.
            }

            _segment?.Dispose();
            _index?.Dispose();
        }

        _state.Publish(null);
        _lockFile.Dispose();
    }

    private static FileStream AcquireLock(LogContext log, PartitionState state)
    {
        var lockPath = Path.Combine(state.Directory, SegmentFiles.LockFileName);
        var pidPath = Path.Combine(state.Directory, SegmentFiles.PidFileName);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive flock on Linux; the kernel drops it when the process dies, SIGKILL included.
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException)
        {
            string? holder = null;
            try
            {
                holder = File.ReadAllText(pidPath).Trim();
            }
            catch (IOException)
            {
                // The holder's note is informative only.
            }

            throw new EventLogLockedException(log.Name, state.Partition, state.Directory, string.IsNullOrEmpty(holder) ? null : holder, ex);
        }

        try
        {
            File.WriteAllText(pidPath, $"pid {Environment.ProcessId} on {Environment.MachineName} since {DateTime.UtcNow:O}\n");
        }
        catch (IOException)
        {
            // Only used to name the holder in another process's error message.
        }

        return lockFile;
    }

    private void Recover()
    {
        var bases = SegmentFiles.ListSegments(Directory);
        DeleteOrphanIndexes(bases);
        _segmentBase = bases.Length == 0 ? 0 : bases[^1];
        _segment = File.OpenHandle(SegmentFiles.LogPath(Directory, _segmentBase), FileMode.OpenOrCreate, FileAccess.ReadWrite, SharedAccess);
        var length = RandomAccess.GetLength(_segment);
        var entries = SegmentFiles.ReadIndex(SegmentFiles.IndexPath(Directory, _segmentBase), _segmentBase, length);
        var (end, lastFrame, nextOffset) = ScanActiveSegment(entries, length);

        _index = File.OpenHandle(SegmentFiles.IndexPath(Directory, _segmentBase), FileMode.OpenOrCreate, FileAccess.ReadWrite, SharedAccess);
        var indexBytes = new byte[entries.Count * IndexEntry.Size];
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i].WriteTo(indexBytes.AsSpan(i * IndexEntry.Size));
        }

        RandomAccess.Write(_index, indexBytes, 0);
        RandomAccess.SetLength(_index, indexBytes.Length);

        _segmentLength = end;
        _writeBehindFrom = end;
        _indexLength = indexBytes.Length;
        _lastIndexedPosition = entries.Count > 0 ? entries[^1].Position : 0;
        _lastFrame = lastFrame;
        _nextOffset = nextOffset;
        _lastTimestamp = lastFrame?.TimestampTicks
            ?? (bases.Length > 1 ? SegmentInspector.NewestTimestamp(Directory, bases[^2]) : null)
            ?? long.MinValue;
        _state.Publish(new CommittedEnd(_segmentBase, _segmentLength, _nextOffset, _lastTimestamp));
    }

    /// <summary>
    /// Checks the active segment from its last index entry to the end. A damaged frame with nothing
    /// valid after it is the torn tail of an interrupted write: it is cut off. A damaged frame
    /// followed by valid frames is corruption: the writer refuses to open rather than lose them.
    /// </summary>
    private (long End, IndexEntry? LastFrame, long NextOffset) ScanActiveSegment(List<IndexEntry> entries, long length)
    {
        using var frames = new SegmentFrameReader(1 << 20);
        frames.Attach(_segment!);
        var trustIndex = entries.Count > 0;
        var start = trustIndex ? entries[^1] : new IndexEntry(_segmentBase, 0, 0);
        var position = start.Position;
        var expected = start.BaseOffset;
        IndexEntry? lastFrame = null;
        while (true)
        {
            var status = frames.TryRead(position, length, loadBody: true, out var header);
            if (status == FrameStatus.End)
            {
                return (position, lastFrame, expected);
            }

            if (status == FrameStatus.Ok && header.BaseOffset == expected && header.TimestampTicks >= (lastFrame?.TimestampTicks ?? long.MinValue))
            {
                var frame = new IndexEntry(header.BaseOffset, position, header.TimestampTicks);
                if (entries.Count == 0 || (position > entries[^1].Position && position - entries[^1].Position >= _log.Options.IndexIntervalBytes))
                {
                    entries.Add(frame);
                }

                lastFrame = frame;
                position += header.FrameLength;
                expected = header.NextOffset;
                continue;
            }

            if (trustIndex && position == start.Position)
            {
                // The index points at no valid frame: rebuild it from a scan of the whole segment.
                trustIndex = false;
                entries.Clear();
                frames.Invalidate();
                position = 0;
                expected = _segmentBase;
                lastFrame = null;
                continue;
            }

            var path = SegmentFiles.LogPath(Directory, _segmentBase);
            if (status == FrameStatus.Ok)
            {
                throw _log.Corruption(_state.Partition, path, position, expected,
                    header.BaseOffset != expected ? $"a frame holds offset {header.BaseOffset} where {expected} was expected" : "enqueue times go backwards");
            }

            var validAfter = status switch
            {
                FrameStatus.Truncated => false,
                FrameStatus.BadBody => SegmentFrameReader.HasValidFrameFrom(_segment!, position + header.FrameLength, length),
                _ => SegmentFrameReader.HasValidFrameFrom(_segment!, position + 1, length),
            };
            if (validAfter)
            {
                throw _log.Corruption(_state.Partition, path, position, expected,
                    "a frame fails its checksum and valid frames follow it (the writer will not truncate them)");
            }

            // A torn tail: the part of an interrupted write that reached the file. Cut it so new frames follow the last complete one.
            RandomAccess.SetLength(_segment!, position);
            TruncatedTailBytes = length - position;
            _log.Logger?.LogWarning(
                "Event log {Log} partition {Partition}: cut {Bytes} bytes of torn tail from {Segment} at byte {Position} (offset {Offset}); they were never acknowledged",
                _log.Name, _state.Partition, TruncatedTailBytes, path, position, expected);
            return (position, lastFrame, expected);
        }
    }

    private void Roll()
    {
        // A sealed segment's index ends at its last frame: retention and time seeks read its age there.
        if (_lastFrame is { } last && last.Position != _lastIndexedPosition)
        {
            AppendIndexEntry(last);
        }

        if (_log.Options.FsyncOnAppend)
        {
            RandomAccess.FlushToDisk(_index!);
        }

        var newBase = _nextOffset;
        var segment = CreateSegment(newBase);
        SafeFileHandle index;
        try
        {
            index = File.OpenHandle(SegmentFiles.IndexPath(Directory, newBase), FileMode.Create, FileAccess.ReadWrite, SharedAccess);
        }
        catch
        {
            segment.Dispose();
            throw;
        }

        _segment!.Dispose();
        _index!.Dispose();
        _segment = segment;
        _index = index;
        _segmentBase = newBase;
        _segmentLength = 0;
        _writeBehindFrom = 0;
        _indexLength = 0;
        _lastIndexedPosition = 0;
        _lastFrame = null;

        try
        {
            ApplyRetentionLocked(_log.Options.TimeProvider.GetUtcNow());
        }
        catch (IOException ex)
        {
            _log.Logger?.LogError(ex, "Event log {Log} partition {Partition}: retention failed; it is retried at the next roll", _log.Name, _state.Partition);
        }
    }

    private SafeFileHandle CreateSegment(long baseOffset)
    {
        var path = SegmentFiles.LogPath(Directory, baseOffset);
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, SharedAccess);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Left over by an earlier roll that failed after creating it; usable only if still empty.
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, SharedAccess);
            if (RandomAccess.GetLength(handle) == 0)
            {
                return handle;
            }

            handle.Dispose();
            throw _log.Corruption(_state.Partition, path, 0, baseOffset, "a segment that should not exist yet already holds data");
        }
    }

    private void AppendIndexEntry(IndexEntry entry)
    {
        Span<byte> bytes = stackalloc byte[IndexEntry.Size];
        entry.WriteTo(bytes);
        try
        {
            RandomAccess.Write(_index!, bytes, _indexLength);
            _indexLength += IndexEntry.Size;
            _lastIndexedPosition = entry.Position;
        }
        catch (IOException)
        {
            // The index only speeds up seeks and the next entry overwrites a partial one, so the append still counts.
        }
    }

    private void Undo(long position)
    {
        try
        {
            RandomAccess.SetLength(_segment!, position);
        }
        catch (IOException)
        {
            _faulted = true;
        }
    }

    private int ApplyRetentionLocked(DateTimeOffset now)
    {
        var retention = _log.Options.Retention;
        var cutoff = now.UtcTicks - Math.Min(retention.Ticks, now.UtcTicks);
        var deleted = 0;
        foreach (var baseOffset in SegmentFiles.ListSegments(Directory))
        {
            if (baseOffset >= _segmentBase)
            {
                break;
            }

            var newest = SegmentInspector.NewestTimestamp(Directory, baseOffset);
            if (newest is null || newest.Value >= cutoff)
            {
                break;
            }

            // Log file first: an index without its log is ignored and cleaned up; the reverse would be a segment without an index.
            File.Delete(SegmentFiles.LogPath(Directory, baseOffset));
            File.Delete(SegmentFiles.IndexPath(Directory, baseOffset));
            deleted++;
        }

        if (deleted > 0)
        {
            _log.Logger?.LogInformation(
                "Event log {Log} partition {Partition}: retention ({Retention}) deleted {Count} segment(s)", _log.Name, _state.Partition, retention, deleted);
        }

        return deleted;
    }

    private void DeleteOrphanIndexes(long[] segmentBases)
    {
        foreach (var baseOffset in SegmentFiles.ListBases(Directory, SegmentFiles.IndexExtension))
        {
            if (Array.BinarySearch(segmentBases, baseOffset) < 0)
            {
                File.Delete(SegmentFiles.IndexPath(Directory, baseOffset));
            }
        }
    }
}
