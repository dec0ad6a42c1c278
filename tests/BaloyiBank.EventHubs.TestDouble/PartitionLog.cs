namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>One stored event: the producer's encoded AMQP message and what the service stamped on it.</summary>
internal sealed record StoredEvent(long SequenceNumber, long Offset, DateTime EnqueuedTimeUtc, string? PartitionKey, byte[] Message);

/// <summary>Where a receiver starts, parsed from the SDK's selector filter.</summary>
internal abstract record StartPosition
{
    public sealed record Earliest : StartPosition;

    public sealed record Latest : StartPosition;

    public sealed record FromOffset(long Offset, bool Inclusive) : StartPosition;

    public sealed record FromSequence(long SequenceNumber, bool Inclusive) : StartPosition;

    public sealed record FromEnqueuedTime(DateTime AfterUtc) : StartPosition;
}

/// <summary>
/// An append-only partition, in memory and optionally in a file (written to the OS before a send is
/// acknowledged, reloaded at start). Offsets are byte positions (as the service's are), so code that mixes
/// up offsets and sequence numbers fails here too.
/// </summary>
internal sealed class PartitionLog : IDisposable
{
    private readonly List<StoredEvent> _events = [];
    private readonly Lock _gate = new();
    private readonly FileStream? _file;
    private long _nextOffset;
    private TaskCompletionSource _appended = NewSignal();

    public PartitionLog(string partitionId, string? filePath = null)
    {
        PartitionId = partitionId;
        if (filePath is not null)
        {
            _file = new FileStream(filePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            foreach (var e in PartitionFile.ReadAll(_file))
            {
                _events.Add(e);
                _nextOffset = e.Offset + e.Message.Length;
            }
        }
    }

    public string PartitionId { get; }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
        }
    }

    public IReadOnlyList<StoredEvent> Append(IReadOnlyList<(string? PartitionKey, byte[] Message)> messages)
    {
        var stored = new List<StoredEvent>(messages.Count);
        TaskCompletionSource signal;
        lock (_gate)
        {
            // One enqueued time for a batch, never going backwards, as the service stamps it.
            // Millisecond precision, as on the wire (AMQP timestamps), so time filters compare like the service's.
            var now = DateTime.UnixEpoch.AddMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (_events.Count > 0 && now < _events[^1].EnqueuedTimeUtc)
            {
                now = _events[^1].EnqueuedTimeUtc;
            }

            var offset = _nextOffset;
            foreach (var (key, message) in messages)
            {
                stored.Add(new StoredEvent(_events.Count + stored.Count, offset, now, key, message));
                offset += message.Length;
            }

            // On disk (to the OS) before in memory: what a receiver sees and what is acknowledged survive a restart.
            if (_file is not null)
            {
                PartitionFile.Append(_file, stored);
            }

            _events.AddRange(stored);
            _nextOffset = offset;

            signal = _appended;
            _appended = NewSignal();
        }

        signal.TrySetResult();
        return stored;
    }

    /// <summary>A task that completes at the next append (take it before reading to miss nothing).</summary>
    public Task NextAppend
    {
        get
        {
            lock (_gate)
            {
                return _appended.Task;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    public StoredEvent? LastOrDefault()
    {
        lock (_gate)
        {
            return _events.Count == 0 ? null : _events[^1];
        }
    }

    public StoredEvent Get(int index)
    {
        lock (_gate)
        {
            return _events[index];
        }
    }

    /// <summary>The index of the first event a receiver starting at <paramref name="position"/> gets.</summary>
    public int FirstIndex(StartPosition position)
    {
        lock (_gate)
        {
            return position switch
            {
                StartPosition.Earliest => 0,
                StartPosition.Latest => _events.Count,
                // Index = sequence number; one past the end waits there for the events to come.
                StartPosition.FromSequence s => (int)Math.Clamp(s.Inclusive ? s.SequenceNumber : s.SequenceNumber + 1, 0, int.MaxValue),
                StartPosition.FromOffset o => FirstWhere(e => o.Inclusive ? e.Offset >= o.Offset : e.Offset > o.Offset),
                StartPosition.FromEnqueuedTime t => FirstWhere(e => e.EnqueuedTimeUtc > t.AfterUtc),
                _ => throw new ArgumentOutOfRangeException(nameof(position), position, "Unknown start position."),
            };
        }
    }

    /// <summary>
    /// Whether an event satisfies the start filter. A receiver that started at the end skips later events
    /// until one does (a filter on an offset or time not reached yet).
    /// </summary>
    public static bool Satisfies(StartPosition position, StoredEvent e) => position switch
    {
        StartPosition.FromOffset o => o.Inclusive ? e.Offset >= o.Offset : e.Offset > o.Offset,
        StartPosition.FromEnqueuedTime t => e.EnqueuedTimeUtc > t.AfterUtc,
        _ => true,
    };

    // Both predicates are monotone over the log, so a binary search finds the first match.
    private int FirstWhere(Func<StoredEvent, bool> matches)
    {
        int lo = 0, hi = _events.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (matches(_events[mid]))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
