using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// The embedded backend of <see cref="IEventLog"/>: a durable, partitioned, append-only log in a
/// local folder. Offsets are dense (0, 1, 2, …) per partition. Any number of readers, in this and
/// other processes, may tail it; one process at a time writes it, and takes the partitions' locks
/// at its first <see cref="CreateProducer"/> (or <see cref="ApplyRetention"/>).
/// </summary>
public sealed class EmbeddedEventLog : IEventLog
{
    // Below this many bytes a batch is encoded and written on the caller's thread: fanning out would cost more than it saves.
    private const long ParallelAppendBytes = 256 * 1024;

    private readonly LogContext _context;
    private readonly PartitionState[] _partitions;
    private readonly Lock _gate = new();
    private PartitionWriter[]? _writers;
    private ITimer? _retentionTimer;
    private bool _disposed;

    private EmbeddedEventLog(LogContext context)
    {
        _context = context;
        _partitions = [.. Enumerable.Range(0, context.PartitionCount)
            .Select(p => new PartitionState(p, SegmentFiles.PartitionDirectory(context.Root, p)))];
    }

    public string Name => _context.Name;

    public int PartitionCount => _context.PartitionCount;

    /// <summary>The log's folder, absolute.</summary>
    public string Directory => _context.Root;

    /// <summary>
    /// Opens an existing log as its manifest describes it (name and partition count), for tools
    /// and readers that did not create it and must not guess its shape.
    /// </summary>
    /// <exception cref="EventLogConfigurationException">The folder holds no log, or its manifest is unreadable.</exception>
    public static EmbeddedEventLog OpenExisting(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(root, LogManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new EventLogConfigurationException(
                $"There is no event log in '{root}' ({LogManifest.FileName} is missing). Pass the --data folder of an existing run, or run ./baloyi run first.");
        }

        var manifest = LogManifest.Read(manifestPath);
        return Open(new EmbeddedEventLogOptions { Directory = root, Name = manifest.Name, Partitions = manifest.Partitions });
    }

    /// <summary>Opens the log in <see cref="EmbeddedEventLogOptions.Directory"/>, creating it if needed.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="EventLogConfigurationException">The folder holds a log of another partition count, name or format.</exception>
    public static EmbeddedEventLog Open(EmbeddedEventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Validate().ToList();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        var root = Path.GetFullPath(options.Directory);
        System.IO.Directory.CreateDirectory(root);
        LogManifest.OpenOrCreate(root, options.Name, options.Partitions, options.TimeProvider.GetUtcNow());
        for (var p = 0; p < options.Partitions; p++)
        {
            System.IO.Directory.CreateDirectory(SegmentFiles.PartitionDirectory(root, p));
        }

        return new EmbeddedEventLog(new LogContext(options.Name, root, options.Partitions, options, options.Logger));
    }

    public Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var infos = new PartitionInfo[PartitionCount];
        for (var p = 0; p < infos.Length; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            infos[p] = Describe(_partitions[p]);
        }

        return Task.FromResult<IReadOnlyList<PartitionInfo>>(infos);
    }

    /// <summary>A producer. The first one takes this process's write locks on every partition.</summary>
    /// <exception cref="EventLogLockedException">Another process or instance writes the log.</exception>
    public IEventLogProducer CreateProducer()
    {
        EnsureWriters();
        return new EmbeddedProducer(this);
    }

    public IPartitionReader OpenReader(int partition, StartPosition start)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, PartitionCount);
        ArgumentNullException.ThrowIfNull(start);
        return new EmbeddedPartitionReader(_context, _partitions[partition], start);
    }

    /// <summary>
    /// Deletes, now, every sealed segment whose newest record is older than the retention period
    /// (it also runs at each segment roll and every <see cref="EmbeddedEventLogOptions.RetentionCheckInterval"/>).
    /// Returns how many segments were deleted. Takes the write locks if this instance does not hold them yet.
    /// </summary>
    public int ApplyRetention()
    {
        var now = _context.Options.TimeProvider.GetUtcNow();
        return EnsureWriters().Sum(writer => writer.ApplyRetention(now));
    }

    public ValueTask DisposeAsync()
    {
        PartitionWriter[]? writers;
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            writers = _writers;
            _writers = null;
        }

        _retentionTimer?.Dispose();
        foreach (var writer in writers ?? [])
        {
            writer.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    internal PartitionWriter Writer(int partition) => EnsureWriters()[partition];

    /// <summary>
    /// Validates and sizes every event first (nothing is written if one is invalid), then per
    /// partition encodes one frame into an exactly sized pooled buffer and writes it at once, while
    /// it is still in cache. Large batches do the partitions in parallel.
    /// </summary>
    internal AppendResult Append(IReadOnlyList<OutgoingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var writers = EnsureWriters();
        var count = events.Count;
        if (count == 0)
        {
            return new AppendResult([]);
        }

        var partitionCount = PartitionCount;
        var counts = new int[partitionCount];
        var frameBytes = new long[partitionCount];
        var partitionOf = ArrayPool<int>.Shared.Rent(count);
        var indexInFrame = ArrayPool<int>.Shared.Rent(count);
        var order = ArrayPool<int>.Shared.Rent(count);
        try
        {
            // Pass 1: each event's partition, its index in that partition's frame, and the frame sizes.
            var key = new KeyEncoder();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var item = events[i];
                    var utf8Key = key.Encode(item.Key ?? throw new ArgumentException($"events[{i}] has no key; every event needs one to choose its partition.", nameof(events)));

                    // KeyPartitioner.PartitionFor's formula on the bytes we already have.
                    var partition = (KeyPartitioner.Murmur2(utf8Key) & 0x7fffffff) % partitionCount;
                    partitionOf[i] = partition;
                    indexInFrame[i] = counts[partition]++;
                    frameBytes[partition] += RecordSize(events, i, utf8Key.Length);
                }
            }
            finally
            {
                key.Dispose();
            }

            // Group event indexes by partition (a counting sort), so each frame encodes its own slice.
            var starts = new int[partitionCount];
            var touched = new List<int>(partitionCount);
            long total = 0;
            for (int p = 0, at = 0; p < partitionCount; at += counts[p], p++)
            {
                starts[p] = at;
                total += frameBytes[p];
                if (counts[p] > 0)
                {
                    touched.Add(p);
                    if (frameBytes[p] + FrameFormat.HeaderSize > FrameFormat.MaxFrameBytes)
                    {
                        throw new ArgumentException(
                            $"This append would write {frameBytes[p]:N0} bytes to partition {p}; one append may write at most {FrameFormat.MaxFrameBytes:N0} bytes to a partition. Split the batch.",
                            nameof(events));
                    }
                }
            }

            for (var i = 0; i < count; i++)
            {
                order[starts[partitionOf[i]] + indexInFrame[i]] = i;
            }

            // Pass 2: encode and write, partition by partition.
            var baseOffsets = new long[partitionCount];
            var parallel = total >= ParallelAppendBytes && touched.Count > 1 && Environment.ProcessorCount > 1;
            ForEachPartition(touched, parallel, p =>
            {
                using var frame = EncodeFrame(events, order.AsSpan(starts[p], counts[p]), (int)frameBytes[p] + FrameFormat.HeaderSize);
                baseOffsets[p] = writers[p].Append(frame);
            });

            var positions = new LogPosition[count];
            for (var i = 0; i < count; i++)
            {
                positions[i] = new LogPosition(partitionOf[i], baseOffsets[partitionOf[i]] + indexInFrame[i]);
            }

            return new AppendResult(positions);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(partitionOf);
            ArrayPool<int>.Shared.Return(indexInFrame);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>The exact encoded size of events[i]; throws, naming the event, if it breaks a format limit.</summary>
    private static long RecordSize(IReadOnlyList<OutgoingEvent> events, int i, int keyBytes)
    {
        var item = events[i];
        if (keyBytes > FrameFormat.MaxKeyBytes)
        {
            throw new ArgumentException($"events[{i}] has a key of {keyBytes} bytes in UTF-8; the event log allows at most {FrameFormat.MaxKeyBytes}.", nameof(events));
        }

        long size = FrameFormat.RecordFixedSize + keyBytes + item.Value.Length;
        var headers = item.Headers;
        var headerCount = headers?.Count ?? 0;
        if (headerCount > FrameFormat.MaxHeaderCount)
        {
            throw new ArgumentException($"events[{i}] has {headerCount} headers; the event log allows at most {FrameFormat.MaxHeaderCount}.", nameof(events));
        }

        for (var h = 0; h < headerCount; h++)
        {
            var (name, value) = headers![h];
            var nameBytes = Encoding.UTF8.GetByteCount(name ?? throw new ArgumentException($"events[{i}] has a header without a name.", nameof(events)));
            var valueBytes = Encoding.UTF8.GetByteCount(value ?? string.Empty);
            if (nameBytes > FrameFormat.MaxHeaderPartBytes || valueBytes > FrameFormat.MaxHeaderPartBytes)
            {
                throw new ArgumentException(
                    $"events[{i}] header '{name}' is too long: header names and values are limited to {FrameFormat.MaxHeaderPartBytes} bytes of UTF-8.", nameof(events));
            }

            size += 4 + nameBytes + valueBytes;
        }

        return size;
    }

    private static FrameBuilder EncodeFrame(IReadOnlyList<OutgoingEvent> events, ReadOnlySpan<int> indexes, int capacity)
    {
        var frame = new FrameBuilder(capacity);
        var key = new KeyEncoder();
        try
        {
            foreach (var i in indexes)
            {
                var item = events[i];
                frame.Add(key.Encode(item.Key), item.Value.Span, item.Headers);
            }

            return frame;
        }
        catch
        {
            frame.Dispose();
            throw;
        }
        finally
        {
            key.Dispose();
        }
    }

    private static void ForEachPartition(List<int> partitions, bool parallel, Action<int> action)
    {
        if (!parallel)
        {
            foreach (var partition in partitions)
            {
                action(partition);
            }

            return;
        }

        try
        {
            Parallel.ForEach(partitions, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, action);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
    }

    private PartitionWriter[] EnsureWriters()
    {
        var writers = Volatile.Read(ref _writers);
        if (writers is not null)
        {
            return writers;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writers is not null)
            {
                return _writers;
            }

            var opened = new List<PartitionWriter>(PartitionCount);
            try
            {
                foreach (var state in _partitions)
                {
                    opened.Add(PartitionWriter.Open(_context, state));
                }
            }
            catch
            {
                foreach (var writer in opened)
                {
                    writer.Dispose();
                }

                throw;
            }

            var interval = _context.Options.RetentionCheckInterval;
            _retentionTimer = _context.Options.TimeProvider.CreateTimer(_ => RetentionTick(), null, interval, interval);
            Volatile.Write(ref _writers, [.. opened]);
            return _writers!;
        }
    }

    private void RetentionTick()
    {
        try
        {
            var writers = Volatile.Read(ref _writers);
            var now = _context.Options.TimeProvider.GetUtcNow();
            foreach (var writer in writers ?? [])
            {
                writer.ApplyRetention(now);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _context.Logger?.LogError(ex, "Event log {Log}: periodic retention failed; it runs again at the next interval or segment roll", Name);
        }
    }

    private static PartitionInfo Describe(PartitionState state)
    {
        var bases = SegmentFiles.ListSegments(state.Directory);
        if (bases.Length == 0)
        {
            return new PartitionInfo(state.Partition, 0, 0, null);
        }

        long next;
        long? lastTicks;
        if (state.Committed is { } committed)
        {
            next = committed.NextOffset;
            lastTicks = committed.LastTimestampTicks == long.MinValue ? null : committed.LastTimestampTicks;
        }
        else
        {
            var end = SegmentInspector.FindEnd(state.Directory, bases[^1]);
            next = end.NextOffset;
            lastTicks = end.LastTimestampTicks ?? (bases.Length > 1 ? SegmentInspector.NewestTimestamp(state.Directory, bases[^2]) : null);
        }

        var first = Math.Min(bases[0], next);
        return new PartitionInfo(state.Partition, first, next, next > first && lastTicks is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null);
    }

    /// <summary>UTF-8 of a key in a pooled buffer reused event after event.</summary>
    private struct KeyEncoder : IDisposable
    {
        private byte[]? _buffer;

        public ReadOnlySpan<byte> Encode(string key)
        {
            var max = Encoding.UTF8.GetMaxByteCount(key.Length);
            if (_buffer is null || _buffer.Length < max)
            {
                if (_buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(max, 256));
            }

            return _buffer.AsSpan(0, Encoding.UTF8.GetBytes(key, _buffer));
        }

        public void Dispose()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }

    private sealed class EmbeddedProducer(EmbeddedEventLog log) : IEventLogProducer
    {
        private bool _disposed;

        public Task<AppendResult> AppendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled<AppendResult>(cancellationToken);
            }

            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);

                // The write is a buffered OS write, fast enough to do inline rather than hop threads.
                return Task.FromResult(log.Append(events));
            }
            catch (Exception ex)
            {
                return Task.FromException<AppendResult>(ex);
            }
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
