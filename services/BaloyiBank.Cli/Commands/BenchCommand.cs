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
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "Scratch folder on the disk to measure (emptied afterwards).",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "bench")),
        };
        var events = new Option<int>("--events") { Description = "Events appended per batch size.", DefaultValueFactory = _ => 2_000_000 };
        events.Validators.Add(r => { if (r.GetValue(events) < 10_000) r.AddError($"--events must be at least 10000 (got {r.GetValue(events)}). Fix: pass e.g. --events 2000000."); });

        var log = new Command("log", "Embedded event log: append and read throughput (events/s, MB/s) vs the raw sequential write speed of the same disk.") { data, events };
        log.SetAction(async (parse, ct) =>
        {
            var settings = new LogBenchmarkSettings { Directory = parse.GetValue(data)!.FullName, TotalEvents = parse.GetValue(events) };
            var console = Presentation.RunConsole.CreateConsole();
            var report = await LogBenchmark.RunAsync(settings, line => console.MarkupLineInterpolated($"[grey]{line}[/]"), ct);
            Print(console, report);
            return 0;
        });
        return new Command("bench", "Benchmarks reported in figures and ratios.") { log };
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
}
