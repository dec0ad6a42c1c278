using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Generator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Bench;

/// <summary>What <c>baloyi bench cleansing</c> measures.</summary>
public sealed record CleansingBenchmarkSettings
{
    /// <summary>A folder on the disk to measure; the benchmark works in a subfolder it deletes afterwards.</summary>
    public required string Directory { get; init; }

    /// <summary>Events generated into the log before cleansing starts.</summary>
    public long Events { get; init; } = 5_000_000;

    public int Partitions { get; init; } = 8;

    public long Seed { get; init; } = 42;

    /// <summary>Generator rate of the latency run (events/s); 0 skips it.</summary>
    public double LatencyRate { get; init; } = 50_000;

    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The start of the latency run left out of its steady-state figures (JIT, first files and commits, the generator's
    /// first second); what was committed during it is reported on its own.
    /// </summary>
    public TimeSpan LatencyWarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Keep the pre-filled log and its JSON-lines export in <see cref="Directory"/> after the run, and reuse them
    /// when a later run asks for the same events, partitions and seed (repeated measurements skip the prefill).
    /// </summary>
    public bool KeepLog { get; init; }

    /// <summary>Extra configuration for the cleansing service (e.g. Cleansing:FlushRows), as key/value overrides.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();
}

/// <param name="Seconds">From the host's start to the last partition committed at the log's end.</param>
/// <param name="Phases">Summed over partition loops, which overlap: divide by wall time for the share of a core.</param>
public sealed record CleansingRunResult(
    long Consumed,
    long Valid,
    long Quarantined,
    long Duplicates,
    long Batches,
    double Seconds,
    double EventsPerSecond,
    double PayloadMBPerSecond,
    FlushPhaseTotals Phases,
    long LakeBytes,
    long PeakWorkingSetBytes,
    double CpuSeconds,
    GcFigures Gc)
{
    /// <summary>Events per second of CPU time (user + system, all threads): robust to other load on the machine.</summary>
    public double EventsPerCpuSecond => Consumed / CpuSeconds;
}

/// <param name="Rows">Rows DuckDB wrote to Parquet (malformed lines are skipped by <c>ignore_errors</c>).</param>
public sealed record DuckDbBaselineResult(long Lines, long Rows, long JsonBytes, double Seconds, double EventsPerSecond, long ParquetBytes, string Sql, double CpuSeconds)
{
    public double EventsPerCpuSecond => Lines / CpuSeconds;
}

/// <summary>Garbage collections during a run: counts per generation and the total time the runtime was paused.</summary>
/// <param name="JitTime">Time the JIT compiler spent on all threads (tiering compiles hot methods again in the background).</param>
public sealed record GcFigures(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long AllocatedBytes, TimeSpan JitTime, long JitMethods)
{
    public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(),
        System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());

    public GcFigures Since(GcFigures start) => new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, Paused - start.Paused, AllocatedBytes - start.AllocatedBytes,
        JitTime - start.JitTime, JitMethods - start.JitMethods);
}

public sealed record LatencyResult(double Rate, double Seconds, long Events, TimeSpan P50, TimeSpan P99, TimeSpan Max, TimeSpan FlushAge, long Flushes, TimeSpan FlushTime, TimeSpan FilesTime, TimeSpan CommitTime,
    TimeSpan WarmUp, long WarmUpEvents, TimeSpan WarmUpP99, TimeSpan WarmUpMax)
{
    /// <summary>A flush's mean wall time (sealed to visible): at a steady rate the p99 is about the age limit plus what a flush takes.</summary>
    public TimeSpan MeanFlush => Flushes == 0 ? TimeSpan.Zero : FlushTime / Flushes;
}

public sealed record CleansingBenchmarkReport(
    CleansingBenchmarkSettings Settings,
    long Events,
    long PayloadBytes,
    double PrefillSeconds,
    CleansingRunResult Cleansing,
    DuckDbBaselineResult Baseline,
    LatencyResult? Latency)
{
    public double RatioToDuckDb => Cleansing.EventsPerSecond / Baseline.EventsPerSecond;
}

/// <summary>
/// Cleansing alone, from a pre-filled embedded log to committed silver, next to DuckDB converting the same
/// payloads from a JSON-lines file to Parquet in the same run; then, optionally, the event-to-commit latency
/// with the generator paced at a steady rate and cleansing keeping up.
/// </summary>
public static class CleansingBenchmark
{
    /// <summary>What a kept benchmark folder loses between runs: everything but the pre-filled log and its export.</summary>
    private static readonly string[] ScratchFolders = ["lake", "latency"];

    public static async Task<CleansingBenchmarkReport> RunAsync(CleansingBenchmarkSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var root = Path.Combine(settings.Directory, "cleansing-bench");
        var logDirectory = Path.Combine(root, "log");
        var jsonl = Path.Combine(root, "events.jsonl");
        var marker = Path.Combine(root, "prefill.txt");
        var prefillKey = string.Create(CultureInfo.InvariantCulture, $"events={settings.Events} partitions={settings.Partitions} seed={settings.Seed}");
        var reuse = settings.KeepLog && File.Exists(marker) && File.ReadAllText(marker).Split('\n')[0] == prefillKey && File.Exists(jsonl);
        if (reuse)
        {
            foreach (var stale in ScratchFolders.Select(f => Path.Combine(root, f)).Where(System.IO.Directory.Exists))
            {
                System.IO.Directory.Delete(stale, recursive: true);
            }
        }
        else
        {
            Reset(root);
        }

        try
        {
            double prefill;
            long lines, payloadBytes;
            if (reuse)
            {
                var kept = File.ReadAllText(marker).Split('\n');
                (prefill, lines, payloadBytes) = (double.Parse(kept[1], CultureInfo.InvariantCulture), long.Parse(kept[2], CultureInfo.InvariantCulture), long.Parse(kept[3], CultureInfo.InvariantCulture));
                progress($"Reusing the pre-filled log and JSON lines in {root} ({prefillKey}).");
            }
            else
            {
                progress($"Generating {settings.Events:N0} events into an embedded log of {settings.Partitions} partitions …");
                var watch = Stopwatch.StartNew();
                await RunHostAsync(Overrides(settings, root, logDirectory, new()
                {
                    ["Generator:MaxEvents"] = Invariant(settings.Events),
                    ["Generator:Rate"] = "0",
                    ["Generator:StopApplicationWhenDone"] = "true",
                }), PipelineParts.Generator, null, cancellationToken).ConfigureAwait(false);
                prefill = watch.Elapsed.TotalSeconds;

                progress("Exporting the payloads as JSON lines for the DuckDB baseline …");
                (lines, payloadBytes) = await ExportJsonLinesAsync(logDirectory, jsonl, cancellationToken).ConfigureAwait(false);
                if (settings.KeepLog)
                {
                    File.WriteAllText(marker, string.Create(CultureInfo.InvariantCulture, $"{prefillKey}\n{prefill}\n{lines}\n{payloadBytes}\n"));
                }
            }

            progress("DuckDB baseline: read_json → Parquet (zstd) …");
            var baseline = RunDuckDbBaseline(jsonl, Path.Combine(root, "baseline.parquet"), lines);
            File.Delete(Path.Combine(root, "baseline.parquet"));
            if (!settings.KeepLog)
            {
                File.Delete(jsonl);
            }

            progress($"Cleansing {lines:N0} events from the log into silver …");
            var run = await RunCleansingAsync(settings, root, logDirectory, cancellationToken).ConfigureAwait(false);
            run = run with { PayloadMBPerSecond = payloadBytes / run.Seconds / 1e6 };

            LatencyResult? latency = null;
            if (settings.LatencyRate > 0)
            {
                progress($"Latency: generator at {settings.LatencyRate:N0} events/s for {settings.LatencyDuration.TotalSeconds:N0} s with cleansing keeping up …");
                latency = await RunLatencyAsync(settings, Path.Combine(root, "latency"), cancellationToken).ConfigureAwait(false);
            }

            return new CleansingBenchmarkReport(settings, lines, payloadBytes, prefill, run, baseline, latency);
        }
        finally
        {
            if (settings.KeepLog)
            {
                foreach (var scratch in ScratchFolders.Select(f => Path.Combine(root, f)).Where(System.IO.Directory.Exists))
                {
                    System.IO.Directory.Delete(scratch, recursive: true);
                }
            }
            else
            {
                Reset(root, recreate: false);
            }
        }
    }

    private static async Task<CleansingRunResult> RunCleansingAsync(CleansingBenchmarkSettings settings, string root, string logDirectory, CancellationToken cancellationToken)
    {
        var lake = Path.Combine(root, "lake");
        CleansingProgress? progress = null;
        var cpu = CpuTime();
        var gc = GcFigures.Now();
        var watch = Stopwatch.StartNew();
        await RunHostAsync(Overrides(settings, root, logDirectory, new() { ["Lake:Folder:Root"] = lake }), PipelineParts.Cleansing,
            services => services.AddSingleton<IUpstreamCompletion>(new LogIsComplete()),
            cancellationToken, host => progress = host.Services.GetRequiredService<CleansingProgress>()).ConfigureAwait(false);
        var seconds = watch.Elapsed.TotalSeconds;
        cpu = CpuTime() - cpu;
        var p = progress!;
        if (p.Failure is { } failure)
        {
            throw new InvalidOperationException($"Cleansing failed during the benchmark: {failure}");
        }

        var lakeBytes = new DirectoryInfo(lake).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        using var self = Process.GetCurrentProcess();
        return new CleansingRunResult(p.Consumed, p.Valid, p.Quarantined, p.Duplicates, p.BatchesCommitted, seconds, p.Consumed / seconds,
            0, p.Phases, lakeBytes, self.PeakWorkingSet64, cpu.TotalSeconds, GcFigures.Now().Since(gc));
    }

    private static async Task<LatencyResult> RunLatencyAsync(CleansingBenchmarkSettings settings, string root, CancellationToken cancellationToken)
    {
        Reset(root);
        CleansingProgress? progress = null;
        var overrides = Overrides(settings, root, Path.Combine(root, "log"), new()
        {
            ["Lake:Folder:Root"] = Path.Combine(root, "lake"),
            ["Generator:Rate"] = Invariant(settings.LatencyRate),
            ["Generator:Duration"] = settings.LatencyDuration.ToString("c", CultureInfo.InvariantCulture),
        });
        var watch = Stopwatch.StartNew();
        TimeSpan flushAge = default;
        (long Events, TimeSpan P99, TimeSpan Max) warmUp = default;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? warmUpWatch = null;
        try
        {
            await RunHostAsync(overrides, PipelineParts.Generator | PipelineParts.Cleansing, null, stop.Token, host =>
            {
                progress = host.Services.GetRequiredService<CleansingProgress>();
                flushAge = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CleansingOptions>>().Value.FlushAge;
                var histogram = progress.CommitLatency;
                warmUpWatch = Task.Run(async () =>
                {
                    await Task.Delay(settings.LatencyWarmUp, stop.Token).ConfigureAwait(false);
                    warmUp = (histogram.Count, histogram.Percentile(0.99), histogram.Max);
                    histogram.Reset();
                }, stop.Token);
            }).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (warmUpWatch is not null)
            {
                await warmUpWatch.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }

        var latency = progress!.CommitLatency;
        var phases = progress.Phases;
        return new LatencyResult(settings.LatencyRate, watch.Elapsed.TotalSeconds, latency.Count, latency.Percentile(0.50), latency.Percentile(0.99), latency.Max, flushAge,
            phases.Flushes, phases.FlushTime, phases.Files, phases.Commit, settings.LatencyWarmUp, warmUp.Events, warmUp.P99, warmUp.Max);
    }

    private static DuckDbBaselineResult RunDuckDbBaseline(string jsonl, string parquet, long lines)
    {
        using var connection = DuckDbSql.Open();
        var sql = $"COPY (SELECT * FROM read_json({Literal(jsonl)}, format = 'newline_delimited', ignore_errors = true)) TO {Literal(parquet)} (FORMAT parquet, COMPRESSION zstd)";
        var cpu = CpuTime();
        var watch = Stopwatch.StartNew();
        connection.Execute(sql);
        var seconds = watch.Elapsed.TotalSeconds;
        cpu = CpuTime() - cpu;
        var rows = connection.Scalar<long>($"SELECT count(*) FROM read_parquet({Literal(parquet)})");
        return new DuckDbBaselineResult(lines, rows, new FileInfo(jsonl).Length, seconds, lines / seconds, new FileInfo(parquet).Length, sql, cpu.TotalSeconds);
    }

    /// <summary>Every payload of the log, one per line (line breaks inside a payload become spaces), in partition order.</summary>
    private static async Task<(long Lines, long Bytes)> ExportJsonLinesAsync(string logDirectory, string file, CancellationToken cancellationToken)
    {
        await using var log = EmbeddedEventLog.OpenExisting(logDirectory);
        await using var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        long lines = 0, bytes = 0;
        var buffer = new byte[64 * 1024];
        for (var partition = 0; partition < log.PartitionCount; partition++)
        {
            await using var reader = log.OpenReader(partition, StartPosition.Earliest);
            while (true)
            {
                var records = await reader.ReadAsync(10_000, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                if (records.Count == 0)
                {
                    break;
                }

                foreach (var record in records)
                {
                    var value = record.Value.Span;
                    if (buffer.Length < value.Length + 1)
                    {
                        buffer = new byte[value.Length * 2];
                    }

                    value.CopyTo(buffer);
                    buffer.AsSpan(0, value.Length).Replace((byte)'\n', (byte)' ');
                    buffer.AsSpan(0, value.Length).Replace((byte)'\r', (byte)' ');
                    buffer[value.Length] = (byte)'\n';
                    output.Write(buffer, 0, value.Length + 1);
                    lines++;
                    bytes += value.Length;
                }
            }
        }

        return (lines, bytes);
    }

    private static async Task RunHostAsync(Dictionary<string, string?> overrides, PipelineParts parts, Action<IServiceCollection>? configure, CancellationToken cancellationToken, Action<IHost>? inspect = null)
    {
        using var host = PipelineHost.Build(overrides, LogLevel.Warning, parts, configure);
        inspect?.Invoke(host);
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, string?> Overrides(CleansingBenchmarkSettings settings, string root, string logDirectory, Dictionary<string, string?> extra)
    {
        var overrides = new Dictionary<string, string?>(settings.Overrides)
        {
            ["EventLog:Embedded:Directory"] = logDirectory,
            ["EventLog:Partitions"] = Invariant(settings.Partitions),
            ["Generator:Seed"] = Invariant(settings.Seed),
            ["Lake:Folder:Root"] = Path.Combine(root, "lake"),
        };
        foreach (var (key, value) in extra)
        {
            overrides[key] = value;
        }

        return overrides;
    }

    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static void Reset(string folder, bool recreate = true)
    {
        if (System.IO.Directory.Exists(folder))
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }

        if (recreate)
        {
            System.IO.Directory.CreateDirectory(folder);
        }
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The pre-filled log is all there is: cleansing stops once it has committed everything.</summary>
    private sealed class LogIsComplete : IUpstreamCompletion
    {
        public bool IsComplete => true;
    }
}
