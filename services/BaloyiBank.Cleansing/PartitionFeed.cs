using System.Diagnostics;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// A partition's micro-batch taken for writing: its counts and quarantine rows, the sealed column buffers
/// holding its valid rows and raw records (<see cref="FeedStaging"/>), each record's
/// enqueue time (latency) and a few trace contexts of its events (span links).
/// </summary>
internal sealed record SealedBatch(
    string AppId,
    MicroBatch Batch,
    IReadOnlyDictionary<TableSchema, ColumnBuffer> FeedRows,
    IReadOnlyList<long> EnqueuedTicks,
    IReadOnlyList<ActivityContext> TraceContexts,
    FeedStaging Staging)
{
    /// <summary>Gives the written buffers back to their feed to fill again; the batch must not be read afterwards.</summary>
    public void Release() => Staging.Recycle(FeedRows.Values);
}

/// <summary>Rows read and cleansed but not yet taken by a flush, over every partition: the pipeline's back-pressure.</summary>
internal sealed class PendingRows
{
    private long _rows;

    public long Value => Interlocked.Read(ref _rows);

    public void Add(long rows) => Interlocked.Add(ref _rows, rows);
}

/// <summary>
/// One partition's reader and cleanser: reads the log from the resume point, cleanses each record into the
/// partition's open <see cref="MicroBatch"/>, and hands the batch over when the pipeline seals it. Reading
/// and cleansing run on the feed's own task, in parallel with the other partitions and with the writing of
/// the previous flush; a chunk of records is cleansed under the feed's lock, so a seal always cuts between
/// records. The per-partition state (accounts, dedup window, watermark) is only touched here.
/// </summary>
internal sealed class PartitionFeed(
    int partition,
    string appId,
    PartitionState state,
    long? boundary,
    IPartitionReader reader,
    CleansingOptions options,
    CleansingProgress progress,
    PendingRows pending,
    Func<CancellationToken, Task<long?>> logEnd,
    TimeProvider time) : IAsyncDisposable
{
    /// <summary>Trace contexts kept per batch for the flush span's links (the SDK's default link limit; sampled ones first).</summary>
    public const int MaxTraceContexts = ServiceDefaults.TraceLinks.MaxLinks;

    private readonly Lock _gate = new();
    private readonly RawEventCleanser _cleanser = new(options);
    private readonly FeedStaging _staging = new();
    private readonly List<LogRecord> _carried = [];
    private MicroBatch? _batch;
    private List<long> _enqueued = [];
    private List<ActivityContext> _traces = [];
    private int _unsampledTraces;

    public int Partition => partition;

    public string AppId => appId;

    /// <summary>The last offset of the batch that was in flight at a crash (some tables hold it, the audit does not); null when none.</summary>
    public long? Boundary => boundary;

    /// <summary>The open batch's size and age; zeros and null when nothing is pending.</summary>
    public (long Rows, long Bytes, DateTimeOffset? OpenedAt) Pending
    {
        get
        {
            lock (_gate)
            {
                return _batch is null ? (0, 0, null) : (_batch.Consumed, _batch.PayloadBytes, _batch.OpenedAt);
            }
        }
    }

    /// <summary>Takes the open batch (null when empty); the next record starts a new one.</summary>
    public SealedBatch? Seal()
    {
        lock (_gate)
        {
            if (_batch is null || _batch.IsEmpty)
            {
                return null;
            }

            var sealedBatch = new SealedBatch(appId, _batch, _staging.Seal(), _enqueued, _traces, _staging);
            pending.Add(-_batch.Consumed);
            _batch = null;
            _enqueued = [];
            _traces = [];
            _unsampledTraces = 0;
            return sealedBatch;
        }
    }

    /// <summary>
    /// Recovery: reads and cleanses exactly up to <see cref="Boundary"/>, so the re-cleansed batch has the range
    /// the tables ahead committed. Records read beyond it are kept for <see cref="RunAsync"/>.
    /// </summary>
    public async Task ReadThroughBoundaryAsync(CancellationToken cancellationToken)
    {
        if (boundary is not { } cut)
        {
            return;
        }

        while (true)
        {
            var records = await reader.ReadAsync(options.ReadBatchRecords, options.ReadWait, cancellationToken).ConfigureAwait(false);
            if (records.Count == 0)
            {
                continue;
            }

            var ingestedAt = time.GetUtcNow();
            lock (_gate)
            {
                for (var i = 0; i < records.Count; i++)
                {
                    var record = records[i];
                    if (record.Offset > cut)
                    {
                        // The tables ahead hold a batch ending exactly at `cut`, a real offset of this partition.
                        throw new InvalidOperationException(
                            $"Partition {partition}: record {record.Offset} passed the in-flight batch's end {cut} without meeting it; the log and the lake disagree.");
                    }

                    Add(record, ingestedAt);
                    if (record.Offset == cut)
                    {
                        for (var j = i + 1; j < records.Count; j++)
                        {
                            _carried.Add(Copy(records[j]));
                        }

                        return;
                    }
                }
            }
        }
    }

    /// <summary>Reads and cleanses until cancelled, pausing while the pipeline holds too many unwritten rows.</summary>
    public async Task RunAsync(long maxPendingRows, CancellationToken cancellationToken)
    {
        if (_carried.Count > 0)
        {
            var ingestedAt = time.GetUtcNow();
            lock (_gate)
            {
                foreach (var record in _carried)
                {
                    Add(record, ingestedAt);
                }
            }

            _carried.Clear();
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            if (pending.Value >= maxPendingRows)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var records = await reader.ReadAsync(options.ReadBatchRecords, options.ReadWait, cancellationToken).ConfigureAwait(false);
            if (records.Count == 0)
            {
                if (await logEnd(cancellationToken).ConfigureAwait(false) is { } end)
                {
                    progress.LogEnd(partition, end);
                }
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var ingestedAt = time.GetUtcNow();
            lock (_gate)
            {
                foreach (var record in records)
                {
                    Add(record, ingestedAt);
                }
            }

            progress.Phases.AddCleanse(Stopwatch.GetElapsedTime(started));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await reader.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _staging.Dispose();
        }
    }

    private void Add(LogRecord record, DateTimeOffset ingestedAt)
    {
        _batch ??= new MicroBatch(partition, time.GetUtcNow(), options.MaxPayloadBytes, retainRows: false);
        var raw = new RawEvent(partition, record.Offset, record.EnqueuedAt, ingestedAt, record.Value.Span);
        var outcome = _cleanser.Process(raw, state);
        _batch.Add(raw, outcome);
        if (outcome.Row is { } row)
        {
            _staging.Append(row);
        }

        _staging.AppendBronze(record);
        _enqueued.Add(record.EnqueuedAt.UtcTicks);
        if (record.Headers[EventHeaders.TraceParent] is { } parent)
        {
            KeepTraceContext(parent, record.Headers[EventHeaders.TraceState]);
        }

        pending.Add(1);
    }

    /// <summary>
    /// Keeps up to <see cref="MaxTraceContexts"/> contexts for the flush span's links, sampled ones first: an unsampled
    /// context only fills a free place and gives it up to a sampled one, since a link to an unrecorded span leads nowhere.
    /// </summary>
    private void KeepTraceContext(string traceparent, string? tracestate)
    {
        var full = _traces.Count >= MaxTraceContexts;
        // The W3C flags are the last two hex digits, sampled = bit 0 ("-01"): a full list only parses what could replace an entry.
        if (full && (_unsampledTraces == 0 || traceparent.Length == 0 || "13579bdfBDF".IndexOf(traceparent[^1], StringComparison.Ordinal) < 0))
        {
            return;
        }

        if (!ActivityContext.TryParse(traceparent, tracestate, isRemote: true, out var context))
        {
            return;
        }

        var sampled = context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded);
        if (!full)
        {
            _traces.Add(context);
            _unsampledTraces += sampled ? 0 : 1;
        }
        else if (sampled)
        {
            _traces[_traces.FindIndex(c => !c.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))] = context;
            _unsampledTraces--;
        }
    }

    private static LogRecord Copy(LogRecord record) =>
        new(record.Partition, record.Offset, record.EnqueuedAt, record.Key, record.Value.ToArray(), record.Headers);
}
