using System.CommandLine;
using System.Globalization;
using BaloyiBank.Cli.Backfill;
using BaloyiBank.Cli.Commands;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Bench;

/// <summary>
/// <c>baloyi bench backfill</c>: exports a generated bank with at least the asked number of transaction rows (untimed,
/// kept for the next run), then times backfill into an empty embedded log: rows/s end to end and CPU per row.
/// </summary>
internal static class BackfillBenchmark
{
    public static Command Create()
    {
        var data = CommonOptions.Data("Scratch folder: the exported CSV files (kept for the next run) and the log (emptied).", Path.Combine("data", "bench-backfill"));
        var rows = CommonOptions.Number("--rows", "Transaction rows at least (the stream is generated until it holds this many).",
            1_000L, long.MaxValue, "a whole number of at least 1000", "pass e.g. --rows 2000000", 2_000_000L);
        var command = new Command("backfill", "Backfill throughput: CSV rows parsed, checked and appended to the embedded log (rows/s, CPU µs per row) on an exported generated bank.") { data, rows };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            var wanted = parse.GetValue(rows);
            var csv = Path.Combine(root, $"csv-{wanted}");
            if (!File.Exists(Path.Combine(csv, ".complete")))
            {
                // Transactions are ~97 % of the stream after the bootstrap's ~33k reference records.
                var events = (long)(wanted / 0.96) + 40_000;
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Exporting {events:N0} generated events to {csv} (untimed; kept for the next run)…"));
                var export = CsvExporter.Export(new GeneratorOptions(), events, csv, cancellationToken: ct);
                if (export.RowsByFile[BankFile.Transactions] < wanted)
                {
                    await Console.Error.WriteLineAsync($"The export holds {export.RowsByFile[BankFile.Transactions]:N0} transaction rows, fewer than --rows {wanted:N0}.");
                    return 1;
                }

                await File.WriteAllTextAsync(Path.Combine(csv, ".complete"), "", ct);
            }

            var log = Path.Combine(root, "log");
            if (Directory.Exists(log))
            {
                Directory.Delete(log, recursive: true);
            }

            int code;
            using (var host = PipelineHost.Build(new Dictionary<string, string?> { ["EventLog:Embedded:Directory"] = log }, LogLevel.Warning, PipelineParts.None))
            {
                var progress = new BackfillProgress();
                using var loader = new BackfillLoader(host.Services.GetRequiredService<IEventLog>(), progress);
                var work = loader.RunAsync(csv, ct);
                await BackfillConsole.ShowProgressAsync(progress, work);
                var report = await work;
                BackfillConsole.Summary(report, csv, "a new embedded log");
                var transactions = report.Files[(int)BankFile.Transactions];
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Benchmark: {report.Rows:N0} rows ({transactions.Rows:N0} transactions) at {report.RowsPerSecond:N0} rows/s, {report.CpuMicrosecondsPerRow:N2} µs CPU per row on {Environment.ProcessorCount} cores (target 300,000 rows/s: {(report.RowsPerSecond >= 300_000 ? "met" : "not met")})."));
                code = 0;
            }

            Directory.Delete(log, recursive: true);
            return code;
        });
        return command;
    }
}
