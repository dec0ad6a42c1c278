using System.Collections.Concurrent;

namespace BaloyiBank.Cleansing;

/// <summary>
/// What the cleansing worker has committed, for the CLI and health: totals since start, quarantines by
/// reason, and per partition the last committed offset and the log's end. Counts only committed batches,
/// so the figures never run ahead of the lake. Thread-safe: partition loops write, readers poll.
/// </summary>
public sealed class CleansingProgress
{
    private readonly ConcurrentDictionary<string, long> _quarantinedByReason = new(StringComparer.Ordinal);
    private PartitionCursor[] _partitions = [];
    private long _consumed;
    private long _valid;
    private long _quarantined;
    private long _duplicates;
    private long _batches;
    private volatile string? _failure;
    private volatile string? _instance;

    /// <summary>Events whose batch was committed by this process (a replayed range counts again).</summary>
    public long Consumed => Interlocked.Read(ref _consumed);
    public long Valid => Interlocked.Read(ref _valid);
    public long Quarantined => Interlocked.Read(ref _quarantined);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long BatchesCommitted => Interlocked.Read(ref _batches);
    public IReadOnlyDictionary<string, long> QuarantinedByReason => _quarantinedByReason;

    /// <summary>From each event's enqueue time to the commit that made its batch visible (every committed event).</summary>
    public LatencyHistogram CommitLatency { get; } = new();

    /// <summary>Time spent per flush phase, summed over every partition (they overlap in wall time).</summary>
    public FlushPhaseTotals Phases { get; } = new();

    /// <summary>Why the worker stopped, when it failed.</summary>
    public string? Failure => _failure;

    /// <summary>True once every partition loop has resumed (its committed offset is known); with scale-out, every owned one.</summary>
    public bool IsStarted => Volatile.Read(ref _partitions) is { Length: > 0 } partitions && partitions.All(p => p.Resumed || !p.Owned);

    /// <summary>With scale-out, this process's instance id; null when one process reads every partition.</summary>
    public string? InstanceId => _instance;

    /// <summary>The partitions this process reads: all of them, or with scale-out the ones it owns in its current run.</summary>
    public IReadOnlyList<int> OwnedPartitions => [.. Volatile.Read(ref _partitions).Select((p, i) => (p, i)).Where(x => x.p.Owned).Select(x => x.i)];

    public IReadOnlyList<PartitionProgress> Partitions => [.. Volatile.Read(ref _partitions).Select((p, i) => p.Snapshot(i))];

    /// <summary>Events in the log not yet committed, over all partitions.</summary>
    public long Lag => Volatile.Read(ref _partitions).Sum(p => p.Lag);

    /// <summary>Every partition has resumed and committed up to the log end it last saw.</summary>
    public bool IsCaughtUp => IsStarted && Lag == 0;

    internal void Start(int partitionCount)
    {
        var partitions = new PartitionCursor[partitionCount];
        for (var i = 0; i < partitions.Length; i++)
        {
            partitions[i] = new PartitionCursor();
        }

        Volatile.Write(ref _partitions, partitions);
    }

    /// <summary>Scale-out: a run over <paramref name="owned"/> only; the other partitions count as neither lagging nor resuming here.</summary>
    internal void Start(int partitionCount, IReadOnlyCollection<int> owned, string instanceId)
    {
        var partitions = new PartitionCursor[partitionCount];
        for (var i = 0; i < partitions.Length; i++)
        {
            partitions[i] = new PartitionCursor { Owned = owned.Contains(i) };
        }

        _instance = instanceId;
        Volatile.Write(ref _partitions, partitions);
    }

    internal void Resumed(int partition, long committedOffset, long logNextOffset)
    {
        var cursor = _partitions[partition];
        cursor.SetCommitted(committedOffset);
        cursor.SetLogEnd(logNextOffset);
        cursor.Resumed = true;
    }

    internal void LogEnd(int partition, long nextOffset) => _partitions[partition].SetLogEnd(nextOffset);

    internal void BatchCommitted(MicroBatch batch)
    {
        Interlocked.Add(ref _consumed, batch.Consumed);
        Interlocked.Add(ref _valid, batch.Valid);
        Interlocked.Add(ref _quarantined, batch.Quarantined);
        Interlocked.Add(ref _duplicates, batch.Duplicates);
        foreach (var (reason, count) in batch.QuarantineByReason)
        {
            _quarantinedByReason.AddOrUpdate(reason, count, (_, total) => total + count);
        }

        Interlocked.Increment(ref _batches);
        _partitions[batch.Partition].SetCommitted(batch.LastOffset);
    }

    internal void Fail(string reason) => _failure = reason;

    private sealed class PartitionCursor
    {
        private long _committed = -1;
        private long _logNext;

        public volatile bool Resumed;

        /// <summary>Read by this process (always, without scale-out).</summary>
        public bool Owned { get; init; } = true;

        // Offsets may have gaps (brokers), so this is an upper bound of the records left; 0 means caught up.
        public long Lag => !Owned ? 0 : Resumed ? Math.Max(0, Interlocked.Read(ref _logNext) - (Interlocked.Read(ref _committed) + 1)) : long.MaxValue / 1024;

        public void SetCommitted(long offset) => Interlocked.Exchange(ref _committed, offset);

        public void SetLogEnd(long next)
        {
            // The end only grows; a stale describe must not make the lag look smaller than it was.
            var seen = Interlocked.Read(ref _logNext);
            while (next > seen && Interlocked.CompareExchange(ref _logNext, next, seen) != seen)
            {
                seen = Interlocked.Read(ref _logNext);
            }
        }

        public PartitionProgress Snapshot(int partition) =>
            new(partition, Interlocked.Read(ref _committed), Interlocked.Read(ref _logNext), Resumed ? Lag : null);
    }
}

/// <summary>Seconds spent in each phase of the flushes, summed over partitions: where the cleansing time goes.</summary>
public sealed class FlushPhaseTotals
{
    private long _cleanse;
    private long _stage;
    private long _files;
    private long _commit;
    private long _flushes;
    private long _flushTime;

    /// <summary>Parsing, validating and routing events (the cleanser), outside flushes.</summary>
    public TimeSpan Cleanse => TimeSpan.FromTicks(Interlocked.Read(ref _cleanse));

    /// <summary>Appending rows to DuckDB staging tables.</summary>
    public TimeSpan Stage => TimeSpan.FromTicks(Interlocked.Read(ref _stage));

    /// <summary>Writing Parquet files, their statistics and uploading them to the lake.</summary>
    public TimeSpan Files => TimeSpan.FromTicks(Interlocked.Read(ref _files));

    /// <summary>Delta commits (log entries, checkpoints).</summary>
    public TimeSpan Commit => TimeSpan.FromTicks(Interlocked.Read(ref _commit));

    /// <summary>Flushes done (each writes and commits every partition's sealed batch).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Wall time of the flushes, summed: sealing to visible commit and its bookkeeping.</summary>
    public TimeSpan FlushTime => TimeSpan.FromTicks(Interlocked.Read(ref _flushTime));

    internal void AddFlush(TimeSpan time)
    {
        Interlocked.Increment(ref _flushes);
        Interlocked.Add(ref _flushTime, time.Ticks);
    }

    internal void AddCleanse(TimeSpan time) => Interlocked.Add(ref _cleanse, time.Ticks);
    internal void AddStage(TimeSpan time) => Interlocked.Add(ref _stage, time.Ticks);
    internal void AddFiles(TimeSpan time) => Interlocked.Add(ref _files, time.Ticks);
    internal void AddCommit(TimeSpan time) => Interlocked.Add(ref _commit, time.Ticks);
}

/// <summary>One partition's progress: the last committed offset (−1 before the first), the log's next offset, the lag (null before resume).</summary>
public sealed record PartitionProgress(int Partition, long CommittedOffset, long LogNextOffset, long? Lag);
