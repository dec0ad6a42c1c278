using System.Text.Json;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Replay;

/// <summary>
/// The bronze archive (<c>bronze/bank_events</c>) as an event log for a replay: each partition's archived records in
/// their original offset order, with their original offsets, keys, headers and enqueue times, read with
/// <see cref="ColumnChunk"/>; after the archive's last record of a partition the reader goes on in the live log, so a
/// replay from bronze catches up to the live position like one from the log.
/// </summary>
/// <remarks>
/// A flush archives every partition's batch into one file per enqueue date, so one file holds many partitions. Each file
/// is decoded once, split by partition and kept until every partition that has rows in it took them; per partition the
/// files are taken in order of their first offset of that partition (a flush's ranges never overlap, and a partition's
/// enqueue times never go backwards, so that order is the offset order).
/// </remarks>
internal sealed class BronzeEventLog : IEventLog
{
    private static readonly string[] Columns = ["source_partition", "source_offset", "enqueued_at", "key", "headers", "payload"];

    private readonly IEventLog _live;
    private readonly ReplayStart _start;
    private readonly Dictionary<int, List<BronzeFile>> _filesByPartition;
    private readonly Dictionary<int, (long First, long Last, long Records)> _ranges;

    private BronzeEventLog(IEventLog live, ReplayStart start, Dictionary<int, List<BronzeFile>> filesByPartition, Dictionary<int, (long, long, long)> ranges, long version)
    {
        _live = live;
        _start = start;
        _filesByPartition = filesByPartition;
        _ranges = ranges;
        Version = version;
    }

    /// <summary>The bronze table version read.</summary>
    public long Version { get; }

    /// <summary>Records archived in bronze, over all partitions.</summary>
    public long ArchivedRecords => _ranges.Values.Sum(r => r.Records);

    public string Name => _live.Name;

    public int PartitionCount => _live.PartitionCount;

    /// <summary>Loads the archive's current snapshot and indexes which files hold which partition's offsets (two small columns read).</summary>
    public static async Task<BronzeEventLog> OpenAsync(ILakeStore lake, string bronzeRoot, IEventLog live, ReplayStart start, string cacheFolder, CancellationToken cancellationToken)
    {
        using var table = new DeltaTable(lake, $"{bronzeRoot.TrimEnd('/')}/{BronzeTables.BankEvents.Name}");
        var snapshot = await table.TryLoadAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"There is no bronze archive at {table.Location}: nothing was archived to replay from. Fix: replay with --source log.");
        var readSet = await table.GetReadSetAsync(snapshot, cacheFolder, cancellationToken).ConfigureAwait(false);
        var filesByPartition = new Dictionary<int, List<BronzeFile>>();
        var ranges = new Dictionary<int, (long First, long Last, long Records)>();
        foreach (var file in readSet.Files)
        {
            var single = new DeltaReadSet(readSet.Schema, readSet.Version, [file]);
            var perPartition = new Dictionary<int, (long First, long Last, long Records)>();
            await foreach (var chunk in ColumnChunk.ReadAsync(single, ["source_partition", "source_offset"], cancellationToken).ConfigureAwait(false))
            {
                var (partitions, offsets) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"));
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    perPartition[partitions[r]] = perPartition.TryGetValue(partitions[r], out var range)
                        ? (Math.Min(range.First, offsets[r]), Math.Max(range.Last, offsets[r]), range.Records + 1)
                        : (offsets[r], offsets[r], 1);
                }
            }

            var shared = new BronzeFile(single, perPartition.Count);
            foreach (var (partition, range) in perPartition)
            {
                shared.FirstOffsets[partition] = range.First;
                (filesByPartition.TryGetValue(partition, out var list) ? list : filesByPartition[partition] = []).Add(shared);
                ranges[partition] = ranges.TryGetValue(partition, out var total)
                    ? (Math.Min(total.First, range.First), Math.Max(total.Last, range.Last), total.Records + range.Records)
                    : range;
            }
        }

        foreach (var (partition, list) in filesByPartition)
        {
            list.Sort((a, b) => a.FirstOffsets[partition].CompareTo(b.FirstOffsets[partition]));
        }

        return new BronzeEventLog(live, start, filesByPartition, ranges, snapshot.Version);
    }

    /// <summary>The live log's partitions, widened by what bronze holds (it may reach back past the log's retention).</summary>
    public async Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var live = await _live.DescribeAsync(cancellationToken).ConfigureAwait(false);
        return [.. live.Select(p => _ranges.TryGetValue(p.Partition, out var range)
            ? p with { FirstOffset = Math.Min(p.IsEmpty ? range.First : p.FirstOffset, range.First), NextOffset = Math.Max(p.NextOffset, range.Last + 1) }
            : p)];
    }

    public IEventLogProducer CreateProducer() => throw new NotSupportedException("A replay only reads the bronze archive.");

    public IPartitionReader OpenReader(int partition, StartPosition start)
    {
        // Offset 0 is a fresh generation: the replay's start applies. A higher offset is a resumed replay: go on from there.
        Func<long, DateTimeOffset, bool> admits = start is StartPosition.OffsetPosition { Offset: > 0 } resume
            ? (offset, _) => offset >= resume.Offset
            : (offset, enqueuedAt) => _start.Admits(partition, offset, enqueuedAt);
        var files = _filesByPartition.TryGetValue(partition, out var list) ? list : [];
        long? last = _ranges.TryGetValue(partition, out var range) ? range.Last : null;
        var tailStart = start is StartPosition.OffsetPosition { Offset: > 0 } r && (last is null || r.Offset > last) ? r.Offset : (long?)null;
        return new Reader(this, partition, new Queue<BronzeFile>(files), admits, last, tailStart);
    }

    // The live log belongs to whoever opened it.
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>One archive file, decoded once on first use and split by partition; dropped once every partition took its rows.</summary>
    private sealed class BronzeFile(DeltaReadSet readSet, int partitions)
    {
        private readonly Lock _gate = new();
        private Task<Dictionary<int, List<LogRecord>>>? _decoded;
        private int _remaining = partitions;

        public Dictionary<int, long> FirstOffsets { get; } = [];

        public async Task<List<LogRecord>> TakeAsync(int partition, CancellationToken cancellationToken)
        {
            Task<Dictionary<int, List<LogRecord>>> decoded;
            lock (_gate)
            {
                decoded = _decoded ??= DecodeAsync(cancellationToken);
            }

            var records = (await decoded.ConfigureAwait(false))[partition];
            lock (_gate)
            {
                if (--_remaining == 0)
                {
                    _decoded = null;
                }
            }

            return records;
        }

        private async Task<Dictionary<int, List<LogRecord>>> DecodeAsync(CancellationToken cancellationToken)
        {
            var byPartition = new Dictionary<int, List<LogRecord>>();
            await foreach (var chunk in ColumnChunk.ReadAsync(readSet, Columns, cancellationToken).ConfigureAwait(false))
            {
                var (partitions, offsets, enqueued) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"), chunk.Timestamps("enqueued_at"));
                var (keys, headers, payloads) = (chunk.Strings("key"), chunk.Strings("headers"), chunk.Binaries("payload"));
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    var record = new LogRecord(partitions[r], offsets[r], new DateTimeOffset(DateTime.SpecifyKind(enqueued[r], DateTimeKind.Utc)),
                        keys[r] ?? "", payloads[r] ?? ReadOnlyMemory<byte>.Empty, Headers(headers[r]));
                    (byPartition.TryGetValue(record.Partition, out var list) ? list : byPartition[record.Partition] = []).Add(record);
                }
            }

            foreach (var list in byPartition.Values)
            {
                list.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            }

            return byPartition;
        }

        private static EventHeaders Headers(string? json)
        {
            if (string.IsNullOrEmpty(json) || json == "{}")
            {
                return EventHeaders.Empty;
            }

            using var document = JsonDocument.Parse(json);
            return new EventHeaders(document.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString() ?? "")));
        }
    }

    private sealed class Reader(BronzeEventLog log, int partition, Queue<BronzeFile> files, Func<long, DateTimeOffset, bool> admits, long? lastArchived, long? tailStart) : IPartitionReader
    {
        private List<LogRecord> _current = [];
        private int _next;
        private IPartitionReader? _tail;

        public int Partition => partition;

        public async Task<IReadOnlyList<LogRecord>> ReadAsync(int maxRecords, TimeSpan maxWait, CancellationToken cancellationToken = default)
        {
            var result = new List<LogRecord>(Math.Min(maxRecords, 4096));
            while (result.Count < maxRecords)
            {
                if (_next < _current.Count)
                {
                    var record = _current[_next++];
                    if (admits(record.Offset, record.EnqueuedAt))
                    {
                        result.Add(record);
                    }

                    continue;
                }

                if (!files.TryDequeue(out var file))
                {
                    break;
                }

                _current = await file.TakeAsync(partition, cancellationToken).ConfigureAwait(false);
                _next = 0;
            }

            if (result.Count > 0)
            {
                return result;
            }

            _tail ??= await OpenTailAsync(cancellationToken).ConfigureAwait(false);
            return await _tail.ReadAsync(maxRecords, maxWait, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The live log after the archive's last record of this partition; refused when the log no longer holds what follows it.</summary>
        private async Task<IPartitionReader> OpenTailAsync(CancellationToken cancellationToken)
        {
            var from = tailStart ?? (lastArchived is { } last ? last + 1 : (long?)null);
            if (from is not { } next)
            {
                // Nothing archived for this partition: the log from the replay's own start.
                return log._live.OpenReader(partition, log._start.PositionOf(partition));
            }

            var live = (await log._live.DescribeAsync(cancellationToken).ConfigureAwait(false)).First(p => p.Partition == partition);
            if (!live.IsEmpty && live.FirstOffset > next)
            {
                throw new InvalidOperationException(
                    $"Partition {partition}: bronze ends at offset {next - 1} and the event log's oldest retained record is {live.FirstOffset}; " +
                    $"offsets {next}..{live.FirstOffset - 1} are in neither, so a replay cannot catch up without losing them. " +
                    "Fix: let the live cleansing archive them first, or replay from the log while it still retains them.");
            }

            return log._live.OpenReader(partition, StartPosition.AtOffset(next));
        }

        public async ValueTask DisposeAsync()
        {
            if (_tail is not null)
            {
                await _tail.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
