using System.Collections.Frozen;

namespace BaloyiBank.Generator;

/// <summary>
/// Live counters of the running generator, for the CLI's progress display and for tests that
/// check a pipeline against what was produced. Written by the worker, readable from any thread.
/// Counts are of this run (a restart starts from zero; see <see cref="ResumedAtSequence"/>).
/// </summary>
public sealed class GeneratorProgress
{
    private readonly long[] _byKind = new long[EventKinds.All.Count];
    private readonly long[] _byType = new long[EventTypeIndex.Count];
    private long[] _lastOffsets = [];
    private long _generated;
    private long _appended;
    private long _catchUp;
    private long _resumedAt = -1;
    private long _nextSequence;
    private long _clockTicks;
    private long _rateBits;
    private volatile bool _started;
    private volatile bool _finished;
    private volatile bool _reachedLimit;
    private volatile string? _failure;

    /// <summary>Records generated (serialized for the log) by this run, catch-up included.</summary>
    public long Generated => Interlocked.Read(ref _generated);

    /// <summary>Records the log has acknowledged in this run.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Records below the resume point that a partial write had lost and this run re-emitted.</summary>
    public long CatchUp => Interlocked.Read(ref _catchUp);

    /// <summary>The first new sequence number of this run (1 + the highest found in the log); −1 before start.</summary>
    public long ResumedAtSequence => Interlocked.Read(ref _resumedAt);

    /// <summary>The sequence number the next generated record gets.</summary>
    public long NextSequence => Interlocked.Read(ref _nextSequence);

    /// <summary>Acknowledged records per wall-clock second, over the last second or so.</summary>
    public double EventsPerSecond => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _rateBits));

    /// <summary>The simulated clock at the last acknowledged record; null before the first.</summary>
    public DateTimeOffset? SimulatedClock
    {
        get
        {
            var ticks = Interlocked.Read(ref _clockTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>True once the worker has read the log and started producing.</summary>
    public bool IsStarted => _started;

    /// <summary>True once the worker has stopped (limit reached, cancelled or failed).</summary>
    public bool IsFinished => _finished;

    /// <summary>True when the run stopped because MaxEvents, Duration or StopAtSequence was reached.</summary>
    public bool ReachedLimit => _reachedLimit;

    /// <summary>Why the worker failed, in words for the operator; null unless it failed.</summary>
    public string? Failure => _failure;

    public long GeneratedOf(EventKind kind) => Interlocked.Read(ref _byKind[(int)kind]);

    /// <summary>Records generated of one wire event type (see <c>EventTypes</c>).</summary>
    public long GeneratedOfType(string eventType)
    {
        for (var i = 0; i < EventTypeIndex.Count; i++)
        {
            if (EventTypeIndex.Name(i) == eventType)
            {
                return Interlocked.Read(ref _byType[i]);
            }
        }

        return 0;
    }

    /// <summary>The offset of the last acknowledged record per partition (−1 where none yet).</summary>
    public IReadOnlyList<long> LastAcknowledgedOffsets
    {
        get
        {
            var offsets = Volatile.Read(ref _lastOffsets);
            var copy = new long[offsets.Length];
            for (var i = 0; i < offsets.Length; i++)
            {
                copy[i] = Interlocked.Read(ref offsets[i]);
            }

            return copy;
        }
    }

    /// <summary>Everything at once (each counter read atomically, not all in one instant).</summary>
    public GeneratorProgressSnapshot Snapshot()
    {
        var byKind = new Dictionary<EventKind, long>();
        foreach (var kind in EventKinds.All)
        {
            byKind[kind] = GeneratedOf(kind);
        }

        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < EventTypeIndex.Count; i++)
        {
            byType[EventTypeIndex.Name(i)] = Interlocked.Read(ref _byType[i]);
        }

        return new GeneratorProgressSnapshot(
            byKind.ToFrozenDictionary(), byType.ToFrozenDictionary(StringComparer.Ordinal),
            Generated, Appended, CatchUp, ResumedAtSequence, NextSequence, EventsPerSecond, SimulatedClock,
            LastAcknowledgedOffsets, IsStarted, IsFinished, ReachedLimit, Failure);
    }

    internal void Begin(int partitions, long resumedAt)
    {
        var offsets = new long[partitions];
        Array.Fill(offsets, -1);
        Volatile.Write(ref _lastOffsets, offsets);
        Interlocked.Exchange(ref _resumedAt, resumedAt);
        Interlocked.Exchange(ref _nextSequence, resumedAt);
        _started = true;
    }

    internal void RecordGenerated(ReadOnlySpan<int> byKind, ReadOnlySpan<int> byType, int count, int catchUp, long nextSequence)
    {
        for (var i = 0; i < byKind.Length; i++)
        {
            if (byKind[i] != 0)
            {
                Interlocked.Add(ref _byKind[i], byKind[i]);
            }
        }

        for (var i = 0; i < byType.Length; i++)
        {
            if (byType[i] != 0)
            {
                Interlocked.Add(ref _byType[i], byType[i]);
            }
        }

        Interlocked.Add(ref _generated, count);
        Interlocked.Add(ref _catchUp, catchUp);
        Interlocked.Exchange(ref _nextSequence, nextSequence);
    }

    internal void RecordAppended(IReadOnlyList<EventLog.LogPosition> positions, long clockTicks)
    {
        var offsets = Volatile.Read(ref _lastOffsets);
        for (var i = 0; i < positions.Count; i++)
        {
            var position = positions[i];
            // Offsets only grow within a partition, so the last one seen is the highest.
            Interlocked.Exchange(ref offsets[position.Partition], position.Offset);
        }

        Interlocked.Add(ref _appended, positions.Count);
        Interlocked.Exchange(ref _clockTicks, clockTicks);
    }

    internal void RecordRate(double eventsPerSecond) => Interlocked.Exchange(ref _rateBits, BitConverter.DoubleToInt64Bits(eventsPerSecond));

    internal void Finish(bool reachedLimit, string? failure)
    {
        _reachedLimit = reachedLimit;
        _failure = failure;
        _finished = true;
    }
}

/// <summary>A copy of <see cref="GeneratorProgress"/>'s counters.</summary>
public sealed record GeneratorProgressSnapshot(
    IReadOnlyDictionary<EventKind, long> GeneratedByKind,
    IReadOnlyDictionary<string, long> GeneratedByType,
    long Generated,
    long Appended,
    long CatchUp,
    long ResumedAtSequence,
    long NextSequence,
    double EventsPerSecond,
    DateTimeOffset? SimulatedClock,
    IReadOnlyList<long> LastAcknowledgedOffsets,
    bool IsStarted,
    bool IsFinished,
    bool ReachedLimit,
    string? Failure);
