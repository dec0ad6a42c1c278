using System.Diagnostics;
using System.Text;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.Cli.Bench;

/// <summary>What <c>baloyi bench log</c> measures. MB are 10^6 bytes, as dd reports them.</summary>
public sealed record LogBenchmarkSettings
{
    /// <summary>A folder on the disk to measure; the benchmark works in a subfolder it deletes afterwards.</summary>
    public required string Directory { get; init; }

    public long TotalEvents { get; init; } = 2_000_000;

    /// <summary>Approximate bytes per event: key, headers (traceparent, content-type) and value together.</summary>
    public int EventSize { get; init; } = 300;

    public IReadOnlyList<int> BatchSizes { get; init; } = [100, 1_000, 10_000];

    public int Partitions { get; init; } = 8;

    /// <summary>Bytes the dd-style raw write writes, in 1 MiB blocks.</summary>
    public long RawDiskBytes { get; init; } = 1L << 30;

    /// <summary>Also measure appends with <c>FsyncOnAppend</c> (largest batch size, a tenth of the events).</summary>
    public bool IncludeFsyncRun { get; init; } = true;

    /// <summary>Partitions read at once in the read test.</summary>
    public int ReadParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>maxRecords per read. Far larger batches keep so many records alive at once that the GC promotes them.</summary>
    public int ReadBatchSize { get; init; } = 1_000;
}

/// <param name="MBPerSecond">Like <c>dd bs=1M</c>: written to the OS page cache.</param>
/// <param name="MBPerSecondWithFsync">Like <c>dd bs=1M conv=fdatasync</c>: until the final fsync returned.</param>
public sealed record RawDiskResult(long Bytes, double WriteSeconds, double WriteAndFsyncSeconds, double MBPerSecond, double MBPerSecondWithFsync);

/// <param name="LogBytes">Bytes the log wrote to its segments (framing and headers included).</param>
/// <param name="Seconds">Appending until the last batch was acknowledged.</param>
/// <param name="CloseSeconds">Closing the log afterwards, which fsyncs it.</param>
/// <param name="LogMBPerSecond">Segment bytes per second while appending; compared with the raw write without fsync.</param>
/// <param name="DurableMBPerSecond">Segment bytes over append plus close time; compared with the raw write with fsync.</param>
/// <param name="AllocatedBytesPerEvent">Managed allocation on the append path, per event (the caller's events excluded).</param>
public sealed record AppendBenchmarkResult(
    int BatchSize,
    bool FsyncOnAppend,
    long Events,
    long PayloadBytes,
    long LogBytes,
    double Seconds,
    double CloseSeconds,
    double EventsPerSecond,
    double PayloadMBPerSecond,
    double LogMBPerSecond,
    double DurableMBPerSecond,
    double RatioToRawDisk,
    double RatioToRawDiskWithFsync,
    double AllocatedBytesPerEvent);

/// <param name="Parallelism">Partitions read at once.</param>
public sealed record ReadBenchmarkResult(long Events, long LogBytes, int Parallelism, int BatchSize, double Seconds, double EventsPerSecond, double LogMBPerSecond);

public sealed record LogBenchmarkReport(
    LogBenchmarkSettings Settings,
    RawDiskResult RawDisk,
    IReadOnlyList<AppendBenchmarkResult> Appends,
    ReadBenchmarkResult Read);

/// <summary>
/// Measures the embedded event log against the disk under it, in one run: a dd-style raw
/// sequential write, appends at several batch sizes, and a sequential read of everything.
/// </summary>
public static class LogBenchmark
{
    private const int BlockBytes = 1 << 20;
    private const int EventPoolSize = 65_536;

    public static async Task<LogBenchmarkReport> RunAsync(LogBenchmarkSettings settings, Action<string> progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        if (settings.BatchSizes.Count == 0 || settings.BatchSizes.Any(b => b < 1) || settings.TotalEvents < 1 || settings.EventSize < 64 || settings.ReadBatchSize < 1)
        {
            throw new ArgumentException("Batch sizes and the event count must be positive and events at least 64 bytes.", nameof(settings));
        }

        var workspace = Path.Combine(Path.GetFullPath(settings.Directory), $"baloyi-bench-{Environment.ProcessId}-{DateTime.UtcNow:yyyyMMddHHmmss}");
        System.IO.Directory.CreateDirectory(workspace);
        try
        {
            progress($"raw sequential write of {settings.RawDiskBytes / BlockBytes} MiB in 1 MiB blocks to {workspace}, twice");
            var raw = Faster(
                MeasureRawDisk(Path.Combine(workspace, "raw-disk-test-1.bin"), settings.RawDiskBytes, ct),
                MeasureRawDisk(Path.Combine(workspace, "raw-disk-test-2.bin"), settings.RawDiskBytes, ct));
            progress($"raw disk (better of two): {raw.MBPerSecond:F0} MB/s to the page cache, {raw.MBPerSecondWithFsync:F0} MB/s with the final fsync");

            var events = CreateEventPool(settings.EventSize);

            // Warm-up, so the measured runs see JIT-optimised code rather than first-call tiers.
            foreach (var batchSize in settings.BatchSizes)
            {
                await MeasureAppendsAsync(Path.Combine(workspace, $"warm-up-{batchSize}"), settings, events, batchSize, Math.Min(settings.TotalEvents, 200_000), fsync: false, raw, ct);
                System.IO.Directory.Delete(Path.Combine(workspace, $"warm-up-{batchSize}"), recursive: true);
            }
            var appends = new List<AppendBenchmarkResult>();
            var batchSizes = settings.BatchSizes.Order().ToList();
            string? lastLog = null;
            foreach (var batchSize in batchSizes)
            {
                var folder = Path.Combine(workspace, $"log-batch-{batchSize}");
                var result = await MeasureAppendsAsync(folder, settings, events, batchSize, settings.TotalEvents, fsync: false, raw, ct);
                appends.Add(result);
                progress(Describe(result));
                if (lastLog is not null)
                {
                    System.IO.Directory.Delete(lastLog, recursive: true);
                }

                lastLog = folder;
            }

            if (settings.IncludeFsyncRun)
            {
                var folder = Path.Combine(workspace, "log-fsync");
                var result = await MeasureAppendsAsync(folder, settings, events, batchSizes[^1], Math.Max(1, settings.TotalEvents / 10), fsync: true, raw, ct);
                appends.Add(result);
                progress(Describe(result));
                System.IO.Directory.Delete(folder, recursive: true);
            }

            var read = await MeasureReadAsync(lastLog!, settings, ct);
            progress($"read: {read.EventsPerSecond:N0} events/s, {read.LogMBPerSecond:F0} MB/s ({read.Events:N0} events, {read.Parallelism} partitions at a time, {read.BatchSize} per read)");
            return new LogBenchmarkReport(settings, raw, appends, read);
        }
        finally
        {
            System.IO.Directory.Delete(workspace, recursive: true);
        }
    }

    private static RawDiskResult Faster(RawDiskResult first, RawDiskResult second) => new(
        first.Bytes,
        Math.Min(first.WriteSeconds, second.WriteSeconds),
        Math.Min(first.WriteAndFsyncSeconds, second.WriteAndFsyncSeconds),
        Math.Max(first.MBPerSecond, second.MBPerSecond),
        Math.Max(first.MBPerSecondWithFsync, second.MBPerSecondWithFsync));

    private static RawDiskResult MeasureRawDisk(string path, long bytes, CancellationToken ct)
    {
        var block = new byte[BlockBytes];
        Random.Shared.NextBytes(block);
        var blocks = Math.Max(1, bytes / BlockBytes);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < blocks; i++)
        {
            ct.ThrowIfCancellationRequested();
            RandomAccess.Write(handle, block, i * BlockBytes);
        }

        var written = clock.Elapsed.TotalSeconds;
        RandomAccess.FlushToDisk(handle);
        var synced = clock.Elapsed.TotalSeconds;
        var total = blocks * BlockBytes;
        handle.Dispose();
        File.Delete(path);
        return new RawDiskResult(total, written, synced, total / written / 1e6, total / synced / 1e6);
    }

    private static async Task<AppendBenchmarkResult> MeasureAppendsAsync(
        string folder, LogBenchmarkSettings settings, OutgoingEvent[] events, int batchSize, long totalEvents, bool fsync, RawDiskResult raw, CancellationToken ct)
    {
        var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Partitions = settings.Partitions, FsyncOnAppend = fsync });
        var payloadPerEvent = events.Take(1024).Average(PayloadBytes);
        long appended = 0;
        var at = 0;
        var producer = log.CreateProducer();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        while (appended < totalEvents)
        {
            ct.ThrowIfCancellationRequested();
            var count = (int)Math.Min(batchSize, totalEvents - appended);
            if (at + count > events.Length)
            {
                at = 0;
            }

            await producer.AppendAsync(new ArraySegment<OutgoingEvent>(events, at, Math.Min(count, events.Length)), ct);
            appended += Math.Min(count, events.Length);
            at += count;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await producer.DisposeAsync();
        var closing = Stopwatch.StartNew();
        await log.DisposeAsync();
        var closeSeconds = closing.Elapsed.TotalSeconds;

        var logBytes = System.IO.Directory.EnumerateFiles(folder, "*.log", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var logMBps = logBytes / seconds / 1e6;
        var durableMBps = logBytes / (seconds + closeSeconds) / 1e6;
        return new AppendBenchmarkResult(
            batchSize, fsync, appended, (long)(payloadPerEvent * appended), logBytes, seconds, closeSeconds,
            appended / seconds, payloadPerEvent * appended / seconds / 1e6, logMBps, durableMBps,
            logMBps / raw.MBPerSecond, durableMBps / raw.MBPerSecondWithFsync, (double)allocated / appended);
    }

    private static async Task<ReadBenchmarkResult> MeasureReadAsync(string folder, LogBenchmarkSettings settings, CancellationToken ct)
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Partitions = settings.Partitions });
        var logBytes = System.IO.Directory.EnumerateFiles(folder, "*.log", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        long events = 0;
        var clock = Stopwatch.StartNew();
        var parallelism = Math.Clamp(settings.ReadParallelism, 1, settings.Partitions);
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Partitions), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct }, async (partition, token) =>
        {
            await using var reader = log.OpenReader(partition, StartPosition.Earliest);
            long count = 0;
            while (true)
            {
                var batch = await reader.ReadAsync(settings.ReadBatchSize, TimeSpan.Zero, token);
                if (batch.Count == 0)
                {
                    break;
                }

                count += batch.Count;
            }

            Interlocked.Add(ref events, count);
        });

        var seconds = clock.Elapsed.TotalSeconds;
        return new ReadBenchmarkResult(events, logBytes, parallelism, settings.ReadBatchSize, seconds, events / seconds, logBytes / seconds / 1e6);
    }

    /// <summary>Bank-like events: account keys, W3C trace context, JSON content type, a JSON-ish body filling the rest.</summary>
    private static OutgoingEvent[] CreateEventPool(int eventSize)
    {
        var random = new Random(42);
        var events = new OutgoingEvent[EventPoolSize];
        var body = new StringBuilder();
        for (var i = 0; i < events.Length; i++)
        {
            var key = $"acct-{random.Next(1_000_000):D7}";
            var headers = new EventHeaders(
                new(EventHeaders.TraceParent, $"00-{random.NextInt64():x16}{random.NextInt64():x16}-{random.NextInt64():x16}-01"),
                new(EventHeaders.ContentType, "application/json"));
            var valueLength = Math.Max(16, eventSize - key.Length - headers.Sum(h => h.Key.Length + h.Value.Length));
            body.Clear().Append("{\"account\":\"").Append(key).Append("\",\"amount\":").Append(random.Next(1, 1_000_000)).Append(",\"memo\":\"");
            while (body.Length < valueLength - 2)
            {
                body.Append((char)('a' + random.Next(26)));
            }

            body.Append("\"}");
            events[i] = new OutgoingEvent(key, Encoding.UTF8.GetBytes(body.ToString(0, Math.Min(body.Length, valueLength))), headers);
        }

        return events;
    }

    private static double PayloadBytes(OutgoingEvent e) =>
        e.Key.Length + e.Value.Length + e.Headers.Sum(h => h.Key.Length + h.Value.Length);

    private static string Describe(AppendBenchmarkResult r) =>
        $"append batch {r.BatchSize}{(r.FsyncOnAppend ? " with fsync" : string.Empty)}: {r.EventsPerSecond:N0} events/s, {r.LogMBPerSecond:F0} MB/s " +
        $"({r.RatioToRawDisk:P0} of raw), {r.DurableMBPerSecond:F0} MB/s to disk incl. close ({r.RatioToRawDiskWithFsync:P0} of raw with fsync), " +
        $"{r.AllocatedBytesPerEvent:F1} B allocated/event";
}
