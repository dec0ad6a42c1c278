using System.CommandLine;
using System.Globalization;
using BaloyiBank.Cli.Bench;
using Spectre.Console;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi bench …</c>: throughput figures measured in one run, next to a baseline measured in the same run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data("Scratch folder on the disk to measure (emptied afterwards).", Path.Combine("data", "bench"));
        var events = CommonOptions.Number("--events", "Events appended per batch size.",
            10_000, int.MaxValue, "at least 10000", "pass e.g. --events 2000000", 2_000_000);

        var log = new Command("log", "Embedded event log: append and read throughput (events/s, MB/s) vs the raw sequential write speed of the same disk.") { data, events };
        log.SetAction(async (parse, ct) =>
        {
            var settings = new LogBenchmarkSettings { Directory = parse.GetValue(data)!.FullName, TotalEvents = parse.GetValue(events) };
            var console = Presentation.RunConsole.CreateConsole();
            var report = await LogBenchmark.RunAsync(settings, line => console.MarkupLineInterpolated($"[grey]{line}[/]"), ct);
            Print(console, report);
            return 0;
        });
        var cleansingEvents = CommonOptions.Number("--events", "Events generated into the log, then cleansed.",
            10_000L, long.MaxValue, "at least 10000", "pass e.g. --events 5000000", 5_000_000L);
        var latencyRate = CommonOptions.Number("--latency-rate", "Generator rate (events/s) of the latency run; 0 skips it.",
            0d, double.MaxValue, "0 (skip the latency run) or a positive number of events per second", "pass e.g. --latency-rate 50000", 50_000d);
        var latencySeconds = CommonOptions.Number("--latency-seconds", "Length of the latency run.",
            1, int.MaxValue, "a whole number of seconds of at least 1", "pass e.g. --latency-seconds 20", 20);
        var keepLog = new Option<bool>("--keep-log") { Description = "Keep the pre-filled log in --data and reuse it next time (same --events, partitions and seed)." };
        var set = ConfigurationOverrides.Create("Configuration overrides for the run, e.g. --set Cleansing:FlushRows=100000.", "Cleansing:FlushRows=100000");
        var cleansing = new Command("cleansing", "Cleansing alone from a pre-filled log to committed silver (events/s) vs DuckDB read_json → Parquet on the same events; event-to-commit latency at a steady rate.")
        {
            data, cleansingEvents, latencyRate, latencySeconds, keepLog, set,
        };
        cleansing.SetAction(async (parse, ct) =>
        {
            var settings = new CleansingBenchmarkSettings
            {
                Directory = parse.GetValue(data)!.FullName,
                Events = parse.GetValue(cleansingEvents),
                LatencyRate = parse.GetValue(latencyRate),
                LatencyDuration = TimeSpan.FromSeconds(parse.GetValue(latencySeconds)),
                KeepLog = parse.GetValue(keepLog),
                Overrides = parse.GetValue(set)!,
            };
            var console = Presentation.RunConsole.CreateConsole();
            var report = await CleansingBenchmark.RunAsync(settings, line => console.MarkupLineInterpolated($"[grey]{line}[/]"), ct);
            Print(console, report);
            return 0;
        });
        var aggregatorRows = CommonOptions.Number("--rows", "Synthetic silver transactions to rebuild gold from.",
            1L, long.MaxValue, "a whole number of at least 1", "pass e.g. --rows 10000000", 10_000_000L);
        var accounts = CommonOptions.Number("--accounts", "Accounts the transactions spread over.",
            1, int.MaxValue, "a whole number of at least 1", "pass e.g. --accounts 1000000", 1_000_000);
        var aggregator = new Command("aggregator", "Gold: in-memory fold throughput and a full rebuild from silver Parquet vs DuckDB's GROUP BY of the same balances.")
        {
            data, aggregatorRows, accounts,
        };
        aggregator.SetAction(async (parse, ct) =>
        {
            var folder = Path.Combine(parse.GetValue(data)!.FullName, "aggregator-bench");
            var console = Presentation.RunConsole.CreateConsole();
            var rows = parse.GetValue(aggregatorRows);
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]Writing {rows:N0} silver transactions, folding, rebuilding gold, DuckDB GROUP BY …[/]");
            try
            {
                var loadBefore = LoadAverage();
                var r = await BaloyiBank.Aggregator.AggregatorBenchmark.RunAsync(folder, rows, parse.GetValue(accounts), (int)Math.Min(rows, 5_000_000), ct);
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold]Fold[/] in memory (no I/O, no Parquet decoding; target ≥ 2,000,000 rows/s): encoded transactions (slot integers, the hot loop) {r.EncodedFoldRowsPerSecond:N0} rows/s, {r.EncodedFoldRowsPerCpuSecond:N0} per CPU second; facts with string ids (a lookup each) {r.FoldRowsPerSecond:N0} rows/s, {r.FoldRowsPerCpuSecond:N0} per CPU second; {r.BytesPerAccount:N0} managed bytes per account");
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold]Rebuild[/] of gold from {r.SilverRows:N0} rows in {r.SilverFiles:N0} files over {r.Accounts:N0} accounts: {r.Rebuild.TotalSeconds:N1} s ({r.RebuildRowsPerSecond:N0} rows/s); DuckDB GROUP BY {r.DuckDbGroupBy.TotalSeconds:N2} s; ratio {r.RebuildToDuckDbRatio:N1}× (target ≤ 2×); balance mismatches {r.BalanceMismatches:N0}");
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold]CPU[/]: fold {r.FoldCpu.TotalSeconds:N2} s (encoded {r.EncodedFoldCpu.TotalSeconds:N2} s); rebuild {r.RebuildCpu.TotalSeconds:N1} s; DuckDB GROUP BY {r.DuckDbGroupByCpu.TotalSeconds:N2} s; CPU ratio {r.RebuildToDuckDbCpuRatio:N1}×; load average {loadBefore} → {LoadAverage()}");
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold]Against the whole account row[/] (every account_balances column from transactions, one GROUP BY): DuckDB {r.DuckDbAccountRows.TotalSeconds:N2} s, CPU {r.DuckDbAccountRowsCpu.TotalSeconds:N2} s; rebuild ratio {r.RebuildToDuckDbAccountRowsRatio:N1}× wall, {r.RebuildToDuckDbAccountRowsCpuRatio:N1}× CPU");
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                    $"[bold]Against the four gold tables[/] (DuckDB computing them from the same files with the verifier's SQL, written as Parquet; target: rebuild ≤ 1.0×): DuckDB {r.DuckDbGoldTables.TotalSeconds:N2} s, CPU {r.DuckDbGoldTablesCpu.TotalSeconds:N2} s; rebuild ratio {r.RebuildToDuckDbGoldTablesRatio:N2}× wall, {r.RebuildToDuckDbGoldTablesCpuRatio:N2}× CPU");
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[bold]Restart[/] on that gold (a new aggregator's start, before catch-up): {r.Restart.TotalSeconds:N1} s; then a live round of {BaloyiBank.Aggregator.AggregatorBenchmark.LiveRoundRows:N0} rows on the last date {r.FirstRoundAfterRestart.TotalSeconds:N2} s (it restores that date's (bucket, account) pairs first), the next one {r.SecondRoundAfterRestart.TotalSeconds:N2} s");
                foreach (var (label, refresh) in new[] { ("the rebuild", r.RebuildRefresh) }.Concat(r.LiveRefreshes.Select((f, i) => ($"live round {i + 1}", f))))
                {
                    if (refresh is not null)
                    {
                        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                            $"[bold]Current-state refresh[/] after {label}: {refresh.TotalRows:N0} rows rewritten ({string.Join(", ", refresh.RowsWritten.Select(t => $"{t.Key} {t.Value:N0}"))}), {refresh.FilesReplaced.Values.Sum():N0} files replaced, {refresh.Duration.TotalSeconds:N2} s");
                    }
                }
                return r.BalanceMismatches == 0 ? 0 : 1;
            }
            finally
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        });

        var warehouseRows = CommonOptions.Number("--rows", "Rows of the changed set and of the table.",
            1, int.MaxValue, "a whole number of at least 1", "pass e.g. --rows 1000000", 1_000_000);
        var warehouseTarget = CommonOptions.Warehouse("duckdb (a scratch file) or postgres://user:password@host:port/database.", "duckdb");
        var warehouse = new Command("warehouse", "Warehouse MERGE throughput: 1M changed rows, a 1% change of a 1M-row table, and the same load again (0 changes).")
        {
            data, warehouseRows, warehouseTarget,
        };
        warehouse.SetAction(async (parse, ct) =>
        {
            var folder = Path.Combine(parse.GetValue(data)!.FullName, "warehouse-bench");
            Directory.CreateDirectory(folder);
            var target = parse.GetValue(warehouseTarget)!;
            var options = target == "duckdb"
                ? new BaloyiBank.Warehouse.WarehouseOptions { Kind = "duckdb", DuckDbPath = Path.Combine(folder, "bench.duckdb") }
                : new BaloyiBank.Warehouse.WarehouseOptions { Kind = "postgres", ConnectionString = target, Schema = "baloyi_bench" };
            var console = Presentation.RunConsole.CreateConsole();
            try
            {
                await using var store = BaloyiBank.Warehouse.WarehouseFactory.Create(options);
                var result = await BaloyiBank.Warehouse.WarehouseBenchmark.RunAsync(store, folder, parse.GetValue(warehouseRows), 0.01, ct);
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[bold]{result.Engine}[/], table of {result.TableRows:N0} rows:");
                foreach (var figure in result.Figures)
                {
                    console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {figure.ToString()}");
                }

                return 0;
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        });
        return new Command("bench", "Benchmarks reported in figures and ratios.") { log, cleansing, aggregator, warehouse, Bench.DeploymentBenchmark.Create(), BackfillBenchmark.Create(), Bench.SoakBenchmark.Create() };
    }

    private static void Print(IAnsiConsole console, CleansingBenchmarkReport report)
    {
        var run = report.Cleansing;
        var baseline = report.Baseline;
        var phases = run.Phases;
        console.WriteLine();
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]Log pre-filled[/] with {report.Events:N0} events ({report.PayloadBytes / 1e6:N0} MB of payload) in {report.PrefillSeconds:N1} s");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]Cleansing[/]: {run.Consumed:N0} consumed = {run.Valid:N0} silver + {run.Quarantined:N0} quarantined + {run.Duplicates:N0} duplicates in {run.Batches:N0} batches, {run.Seconds:N1} s → [bold]{run.EventsPerSecond:N0} events/s[/] ({run.PayloadMBPerSecond:N0} MB/s of payload); lake {run.LakeBytes / 1e6:N0} MB; peak working set {run.PeakWorkingSetBytes / 1e6:N0} MB");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"  CPU {run.CpuSeconds:N1} s → {run.EventsPerCpuSecond:N0} events per CPU-second; time per phase, summed over partitions: cleanse {phases.Cleanse.TotalSeconds:N1} s, stage {phases.Stage.TotalSeconds:N1} s, files {phases.Files.TotalSeconds:N1} s, commit {phases.Commit.TotalSeconds:N1} s");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"  GC: {run.Gc.Gen0:N0} gen0, {run.Gc.Gen1:N0} gen1, {run.Gc.Gen2:N0} gen2 collections, paused {run.Gc.Paused.TotalSeconds:N1} s, allocated {run.Gc.AllocatedBytes / 1e9:N1} GB ({run.Gc.AllocatedBytes / (double)Math.Max(1, run.Consumed):N0} B/event); JIT {run.Gc.JitTime.TotalSeconds:N1} s for {run.Gc.JitMethods:N0} methods");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]DuckDB baseline[/]: {baseline.Lines:N0} JSON lines ({baseline.JsonBytes / 1e6:N0} MB) → {baseline.Rows:N0} Parquet rows ({baseline.ParquetBytes / 1e6:N0} MB) in {baseline.Seconds:N1} s → [bold]{baseline.EventsPerSecond:N0} events/s[/]; CPU {baseline.CpuSeconds:N1} s → {baseline.EventsPerCpuSecond:N0} events per CPU-second");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {baseline.Sql}");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]Ratio[/] cleansing / DuckDB: {report.RatioToDuckDb:N2}× in wall time, {run.EventsPerCpuSecond / baseline.EventsPerCpuSecond:N2}× per CPU-second (target ≥ 0.5×); cleansing rate vs 400,000 events/s target: {run.EventsPerSecond / 400_000:P0}");
        if (report.Latency is { } latency)
        {
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[bold]Latency[/] at {latency.Rate:N0} events/s for {latency.Seconds:N0} s, after a {latency.WarmUp.TotalSeconds:N0} s warm-up ({latency.Events:N0} events committed after it): event enqueued → silver commit p50 {latency.P50.TotalMilliseconds:N0} ms, p99 {latency.P99.TotalMilliseconds:N0} ms, max {latency.Max.TotalMilliseconds:N0} ms (target p99 ≤ flush age {latency.FlushAge.TotalMilliseconds:N0} ms + 1,000 ms); {latency.Flushes:N0} flushes, {latency.MeanFlush.TotalMilliseconds:N0} ms each on average (files {latency.FilesTime.TotalSeconds:N1} s, commits {latency.CommitTime.TotalSeconds:N1} s in all); during the warm-up {latency.WarmUpEvents:N0} events committed, p99 {latency.WarmUpP99.TotalMilliseconds:N0} ms, max {latency.WarmUpMax.TotalMilliseconds:N0} ms");
        }
    }

    private static void Print(IAnsiConsole console, LogBenchmarkReport report)
    {
        var raw = report.RawDisk;
        console.WriteLine();
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]Raw sequential write[/] (dd bs=1M, {raw.Bytes / (1024 * 1024):N0} MiB, same disk): {raw.MBPerSecond:N0} MB/s to the page cache, {raw.MBPerSecondWithFsync:N0} MB/s including fsync");

        var appends = new Table().Title("Embedded log appends (events of ~" + report.Settings.EventSize.ToString(CultureInfo.InvariantCulture) + " bytes, " + report.Settings.Partitions.ToString(CultureInfo.InvariantCulture) + " partitions)")
            .Border(TableBorder.Simple)
            .AddColumn(new TableColumn("batch").RightAligned()).AddColumn("fsync/append")
            .AddColumn(new TableColumn("events/s").RightAligned()).AddColumn(new TableColumn("log MB/s").RightAligned())
            .AddColumn(new TableColumn("vs raw").RightAligned()).AddColumn(new TableColumn("durable MB/s").RightAligned())
            .AddColumn(new TableColumn("vs raw+fsync").RightAligned()).AddColumn(new TableColumn("alloc B/event").RightAligned());
        foreach (var a in report.Appends)
        {
            appends.AddRow(F(a.BatchSize), a.FsyncOnAppend ? "yes" : "no", F(a.EventsPerSecond), F(a.LogMBPerSecond),
                P(a.RatioToRawDisk), F(a.DurableMBPerSecond), P(a.RatioToRawDiskWithFsync), F(a.AllocatedBytesPerEvent));
        }

        console.Write(appends);
        var read = report.Read;
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]Sequential read[/] of {read.Events:N0} events ({read.Parallelism} partitions at once, batches of {read.BatchSize:N0}): {read.EventsPerSecond:N0} events/s, {read.LogMBPerSecond:N0} MB/s");
    }

    private static string F(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string P(double ratio) => ratio.ToString("P0", CultureInfo.InvariantCulture);

    /// <summary>The 1-minute load average (Linux), so figures from a shared machine say how shared it was.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
