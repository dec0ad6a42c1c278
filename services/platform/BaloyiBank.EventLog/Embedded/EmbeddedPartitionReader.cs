using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// Tails one partition: reads checksummed frames segment by segment, hands out their records in
/// offset order, and waits for more (woken by this instance's writer, otherwise polling).
/// Not safe for concurrent <see cref="ReadAsync"/> calls, like a Kafka consumer.
/// </summary>
internal sealed class EmbeddedPartitionReader : IPartitionReader
{
    private readonly LogContext _log;
    private readonly PartitionState _state;
    private readonly SegmentFrameReader _frames = new(1 << 20);
    private readonly RecordDecoder _decoder = new();
    private readonly List<LogRecord> _scratch = [];
    private SafeFileHandle? _handle;
    private long _segmentBase;
    private long _position;
    private long _expectedOffset;
    private bool _positionedByIndex;

    // The start position as filters: records below _minOffset or frames enqueued before _minTicks are skipped.
    private long _minOffset;
    private long _minTicks = long.MinValue;

    // The frame whose records are being handed out; its bytes stay in _frames.Buffer meanwhile.
    private int _recordsLeft;
    private int _recordIndex;
    private int _frameEnd;
    private long _recordOffset;
    private long _framePosition;
    private DateTimeOffset _frameTime;

    // A damaged tail already judged torn: not re-examined until the file changes.
    private long _tornPosition = -1;
    private long _tornLimit = -1;
    private EventLogCorruptionException? _corruption;
    private bool _disposed;

    public EmbeddedPartitionReader(LogContext log, PartitionState state, StartPosition start)
    {
        _log = log;
        _state = state;
        switch (start)
        {
            case StartPosition.EarliestPosition:
                LocateOffset(0);
                break;
            case StartPosition.LatestPosition:
                LocateEnd();
                break;
            case StartPosition.OffsetPosition at:
                _minOffset = Math.Max(0, at.Offset);
                LocateOffset(_minOffset);
                break;
            case StartPosition.TimePosition at:
                _minTicks = at.Instant.UtcTicks;
                LocateTime(_minTicks);
                break;
            default:
                throw new ArgumentException($"Unknown start position {start}.", nameof(start));
        }
    }

    public int Partition => _state.Partition;

    /// <summary>Bytes this reader has read from segment files (tests use it to show seeks use the index).</summary>
    internal long BytesRead => _frames.BytesRead;

    private string SegmentPath => SegmentFiles.LogPath(_state.Directory, _segmentBase);

    public async Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        if (maxWait < TimeSpan.Zero && maxWait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(maxWait), maxWait, "maxWait must be zero or more, or infinite.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var poll = _log.Options.PollInterval;
        var started = Stopwatch.GetTimestamp();
        var records = _scratch;
        while (true)
        {
            var appended = _state.Appended;
            Fill(records, maxRecords);
            if (records.Count > 0)
            {
                // An exact-size array: a list grown to thousands of entries would land on the large-object heap every call.
                LogRecord[] result = [.. records];
                records.Clear();
                return result;
            }

            var remaining = maxWait == Timeout.InfiniteTimeSpan ? poll : maxWait - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return [];
            }

            await Task.WhenAny(appended, Task.Delay(remaining < poll ? remaining : poll, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _handle?.Dispose();
            _frames.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private void Fill(List<LogRecord> records, int maxRecords)
    {
        // Records before a corruption are returned first; the exception comes with the next call, and every call after.
        if (_corruption is not null)
        {
            throw _corruption;
        }

        try
        {
            while (records.Count < maxRecords)
            {
                if (_recordsLeft > 0)
                {
                    TakeRecords(records, maxRecords);
                }
                else if (!TryAdvance())
                {
                    return;
                }
            }
        }
        catch (EventLogCorruptionException ex)
        {
            _corruption = ex;
            if (records.Count == 0)
            {
                throw;
            }
        }
    }

    private void TakeRecords(List<LogRecord> records, int maxRecords)
    {
        var buffer = _frames.Buffer;
        while (_recordsLeft > 0 && records.Count < maxRecords)
        {
            var offset = _recordOffset;
            var available = _frameEnd - _recordIndex;
            var length = available >= FrameFormat.RecordLengthPrefix ? BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(_recordIndex)) : -1;
            if (length < FrameFormat.RecordFixedSize - FrameFormat.RecordLengthPrefix || length > available - FrameFormat.RecordLengthPrefix)
            {
                throw Corruption(_framePosition, offset, "a record's length runs past its frame");
            }

            var record = buffer.AsSpan(_recordIndex + FrameFormat.RecordLengthPrefix, length);
            _recordIndex += FrameFormat.RecordLengthPrefix + length;
            _recordOffset++;
            _recordsLeft--;
            if (offset < _minOffset)
            {
                continue;
            }

            try
            {
                records.Add(_decoder.Decode(_state.Partition, offset, _frameTime, record));
            }
            catch (FormatException ex)
            {
                throw Corruption(_framePosition, offset, ex.Message);
            }
        }
    }

    /// <summary>Moves to the next frame (or segment). False when nothing more is available yet.</summary>
    private bool TryAdvance()
    {
        if (_handle is null && !TryOpenSegment())
        {
            return false;
        }

        var limit = CurrentLimit();
        var skipping = _minOffset > _expectedOffset || _minTicks != long.MinValue;
        var status = _frames.TryRead(_position, limit, loadBody: !skipping, out var header);
        if (status == FrameStatus.Ok && header.BaseOffset != _expectedOffset)
        {
            if (_positionedByIndex)
            {
                return RestartSegment();
            }

            throw Corruption(_position, _expectedOffset, $"a frame holds offset {header.BaseOffset} where {_expectedOffset} was expected");
        }

        if (status == FrameStatus.Ok)
        {
            _positionedByIndex = false;
            if (header.NextOffset <= _minOffset || header.TimestampTicks < _minTicks)
            {
                // Wholly before the start position: skipped on its header alone.
                _position += header.FrameLength;
                _expectedOffset = header.NextOffset;
                return true;
            }

            if (skipping)
            {
                status = _frames.TryRead(_position, limit, loadBody: true, out header);
            }
        }

        switch (status)
        {
            case FrameStatus.Ok:
                // Enqueue times never decrease, so once one frame qualifies by time every later one does.
                _minTicks = long.MinValue;
                var frameIndex = _frames.BufferIndex(_position);
                _recordIndex = frameIndex + FrameFormat.HeaderSize;
                _frameEnd = frameIndex + header.FrameLength;
                _recordsLeft = header.RecordCount;
                _recordOffset = header.BaseOffset;
                _frameTime = new DateTimeOffset(header.TimestampTicks, TimeSpan.Zero);
                _framePosition = _position;
                _position += header.FrameLength;
                _expectedOffset = header.NextOffset;
                return true;
            case FrameStatus.End:
                return TryMoveToNextSegment();
            default:
                return _positionedByIndex ? RestartSegment() : OnDamage(status, header, limit);
        }
    }

    /// <summary>
    /// A frame that is incomplete or fails its checksum. With nothing valid after it in the
    /// partition it is a torn tail or a write in progress: invisible, and we wait. With valid data
    /// after it, it is read once more (it may have been completed meanwhile) and otherwise is corruption.
    /// </summary>
    private bool OnDamage(FrameStatus status, FrameHeader header, long limit)
    {
        if (_tornPosition == _position && _tornLimit == limit)
        {
            return false;
        }

        _frames.Invalidate();
        var laterData = LaterSegmentExists() || status switch
        {
            FrameStatus.Truncated => false,
            FrameStatus.BadBody => SegmentFrameReader.HasValidFrameFrom(_handle!, _position + header.FrameLength, limit),
            _ => SegmentFrameReader.HasValidFrameFrom(_handle!, _position + 1, limit),
        };
        if (!laterData)
        {
            _tornPosition = _position;
            _tornLimit = limit;
            return false;
        }

        var fresh = Math.Max(limit, RandomAccess.GetLength(_handle!));
        var again = _frames.TryRead(_position, fresh, loadBody: true, out _);
        _frames.Invalidate();
        if (again == FrameStatus.Ok)
        {
            return true;
        }

        var reason = again switch
        {
            FrameStatus.BadBody => "a frame fails its checksum",
            FrameStatus.BadHeader => "bytes that are not a valid frame header",
            _ => "an incomplete frame",
        };
        throw Corruption(_position, _expectedOffset, reason + (LaterSegmentExists() ? " in a sealed segment" : " followed by valid frames"));
    }

    private bool TryMoveToNextSegment()
    {
        // The next segment is named by the offset after this one's last record; an empty segment
        // (a roll whose first write never landed) has none, and must not be mistaken for its own successor.
        var next = SegmentFiles.LogPath(_state.Directory, _expectedOffset);
        if (_expectedOffset == _segmentBase || !File.Exists(next))
        {
            if (!File.Exists(SegmentPath))
            {
                // Retention deleted the segment under us: continue at the oldest retained record.
                Relocate();
                return true;
            }

            return false;
        }

        // A later segment exists, so this one is sealed; finish it first, its last frames may have landed since we looked.
        if (CurrentLimit() > _position)
        {
            return true;
        }

        OpenSegment(_expectedOffset, 0, _expectedOffset, byIndex: false);
        return true;
    }

    /// <summary>How far this segment may be read: the writer's published end when it is in this instance, else the file's length.</summary>
    private long CurrentLimit()
    {
        if (_state.Committed is { } committed)
        {
            if (committed.SegmentBase == _segmentBase)
            {
                return committed.SegmentLength;
            }

            if (committed.SegmentBase < _segmentBase)
            {
                return 0;
            }
        }

        return RandomAccess.GetLength(_handle!);
    }

    private bool TryOpenSegment()
    {
        var handle = SegmentInspector.OpenRead(SegmentPath);
        if (handle is not null)
        {
            _handle = handle;
            _frames.Attach(handle);
            return true;
        }

        var bases = SegmentFiles.ListSegments(_state.Directory);
        if (bases.Length > 0 && bases[0] > _segmentBase)
        {
            // Retention deleted it before we got there: continue at the oldest retained record.
            Relocate();
            return _handle is not null;
        }

        // The segment is not created yet (a new log whose writer has not opened).
        return false;
    }

    private bool LaterSegmentExists()
    {
        var bases = SegmentFiles.ListSegments(_state.Directory);
        return bases.Length > 0 && bases[^1] > _segmentBase;
    }

    private bool RestartSegment()
    {
        // The index pointed somewhere wrong: scan this segment from its start instead.
        _positionedByIndex = false;
        _position = 0;
        _expectedOffset = _segmentBase;
        _frames.Invalidate();
        return true;
    }

    private void Relocate()
    {
        _minOffset = Math.Max(_minOffset, _expectedOffset);
        LocateOffset(_minOffset);
    }

    private void LocateOffset(long target)
    {
        var bases = SegmentFiles.ListSegments(_state.Directory);
        if (bases.Length == 0)
        {
            OpenSegment(0, 0, 0, byIndex: false);
            return;
        }

        var at = Array.BinarySearch(bases, target);
        var segment = bases[at >= 0 ? at : Math.Max(0, ~at - 1)];
        var entry = target > segment ? SegmentFiles.FloorByOffset(ReadIndex(segment), target) : null;
        OpenSegment(segment, entry?.Position ?? 0, entry?.BaseOffset ?? segment, byIndex: entry is { Position: > 0 });
    }

    private void LocateTime(long ticks)
    {
        var bases = SegmentFiles.ListSegments(_state.Directory);
        if (bases.Length == 0)
        {
            OpenSegment(0, 0, 0, byIndex: false);
            return;
        }

        // Bisect segments by their first enqueue time (non-decreasing across the partition), then the index inside one.
        int lo = 0, hi = bases.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (SegmentInspector.OldestTimestamp(_state.Directory, bases[mid]) is { } oldest && oldest < ticks)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var segment = bases[Math.Max(found, 0)];
        var entry = found >= 0 ? SegmentFiles.LastBefore(ReadIndex(segment), ticks) : null;
        OpenSegment(segment, entry?.Position ?? 0, entry?.BaseOffset ?? segment, byIndex: entry is { Position: > 0 });
    }

    private void LocateEnd()
    {
        if (_state.Committed is { } committed)
        {
            _minOffset = committed.NextOffset;
            OpenSegment(committed.SegmentBase, committed.SegmentLength, committed.NextOffset, byIndex: false);
            return;
        }

        var bases = SegmentFiles.ListSegments(_state.Directory);
        if (bases.Length == 0)
        {
            OpenSegment(0, 0, 0, byIndex: false);
            return;
        }

        var end = SegmentInspector.FindEnd(_state.Directory, bases[^1]);
        _minOffset = end.NextOffset;
        OpenSegment(end.SegmentBase, end.Position, end.NextOffset, byIndex: false);
    }

    private List<IndexEntry> ReadIndex(long segment)
    {
        var info = new FileInfo(SegmentFiles.LogPath(_state.Directory, segment));
        return info.Exists ? SegmentFiles.ReadIndex(SegmentFiles.IndexPath(_state.Directory, segment), segment, info.Length) : [];
    }

    private void OpenSegment(long segmentBase, long position, long expectedOffset, bool byIndex)
    {
        _handle?.Dispose();
        _handle = null;
        _frames.Invalidate();
        _segmentBase = segmentBase;
        _position = position;
        _expectedOffset = expectedOffset;
        _positionedByIndex = byIndex;
        _tornPosition = _tornLimit = -1;
        TryOpenSegment();
    }

    private EventLogCorruptionException Corruption(long position, long offset, string reason) =>
        _log.Corruption(_state.Partition, SegmentPath, position, offset, reason);
}
