using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cli.Presentation;
using Spectre.Console;

namespace BaloyiBank.Cli.Backfill;

/// <summary>Backfill's progress line (rows/s and ETA; a plain line every 2 s when output is redirected) and its summary per file.</summary>
internal static class BackfillConsole
{
    public static async Task ShowProgressAsync(BackfillProgress progress, Task work)
    {
        var interactive = !Console.IsOutputRedirected;
        var watch = Stopwatch.StartNew();
        var refresh = interactive ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(2);
        while (await Task.WhenAny(work, Task.Delay(refresh)) != work)
        {
            var line = Line(progress, watch.Elapsed);
            if (interactive)
            {
                Console.Out.Write("\r" + line.PadRight(Math.Max(line.Length, Console.WindowWidth > 0 ? Console.WindowWidth - 1 : line.Length)));
            }
            else
            {
                Console.Out.WriteLine(line);
            }
        }

        if (interactive)
        {
            Console.Out.Write("\r" + new string(' ', Math.Max(0, Console.WindowWidth - 1)) + "\r");
        }
    }

    /// <summary>One progress line: phase, rows, rate and the ETA of the phase (bytes for reading, events for appending).</summary>
    public static string Line(BackfillProgress p, TimeSpan elapsed)
    {
        var rate = elapsed > TimeSpan.Zero ? p.Rows / elapsed.TotalSeconds : 0;
        var (done, total) = p.Phase == "appending" ? (p.Appended, p.ToAppend) : (p.BytesRead, p.TotalBytes);
        var share = total > 0 ? Math.Min(1, done / (double)total) : 0;
        var eta = share > 0 && p.Phase is "reading" or "appending"
            ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - share) / share).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture)
            : "--:--:--";
        var bar = new string('#', (int)(share * 20)).PadRight(20, '.');
        return string.Create(CultureInfo.InvariantCulture,
            $"{elapsed:hh\\:mm\\:ss} [{bar}] {share:P0} {p.Phase}: rows read {p.Rows:N0} ({rate:N0} rows/s), appended {p.Appended:N0} of {p.ToAppend:N0}, ETA {eta}");
    }

    public static void Summary(BackfillReport report, string from, string log)
    {
        var console = RunConsole.CreateConsole();
        console.WriteLine();
        var table = new Table().Title($"Backfill from {from} into {log}").Border(TableBorder.Simple)
            .AddColumn("file").AddColumn(new TableColumn("rows").RightAligned()).AddColumn(new TableColumn("appended").RightAligned())
            .AddColumn(new TableColumn("already in the log").RightAligned()).AddColumn(new TableColumn("rejected").RightAligned())
            .AddColumn("rejected by reason (each appended as backfill.rejected_row → quarantine)");
        foreach (var file in report.Files)
        {
            var reasons = file.RejectedByReason.Count == 0 ? "-" : string.Join(", ", file.RejectedByReason.Select(r => $"{r.Key} {N(r.Value)}"));
            if (file.BlankLines > 0)
            {
                reasons += $" (blank lines skipped: {N(file.BlankLines)})";
            }

            table.AddRow(file.Layout.FileName, N(file.Rows), N(file.Appended), N(file.AlreadyInLog), N(file.Rejected), Markup.Escape(reasons));
        }

        table.AddRow("total", N(report.Rows), N(report.Appended), N(report.AlreadyInLog), N(report.Rejected), "");
        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Rows:N0} rows in {report.Elapsed.TotalSeconds:N2} s ({report.RowsPerSecond:N0} rows/s; read and sort {report.ReadTime.TotalSeconds:N2} s, log check {report.ScanTime.TotalSeconds:N2} s, append {report.AppendTime.TotalSeconds:N2} s); CPU {report.Cpu.TotalSeconds:N2} s ({report.CpuMicrosecondsPerRow:N2} µs per row)."));
        if (report.Appended == 0 && report.AlreadyInLog > 0)
        {
            console.WriteLine("Every row was already in the log from an earlier backfill: nothing appended, so silver, gold and the warehouse stay as they are.");
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
