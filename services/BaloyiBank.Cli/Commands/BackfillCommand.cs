using System.CommandLine;
using System.Globalization;
using BaloyiBank.Cli.Backfill;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi backfill</c> and <c>baloyi export-csv</c>: the bank's five CSV files onto the event log, and a generated bank as those files.</summary>
internal static class BackfillCommand
{
    public const string DefaultFolder = "csv";

    public static Command Create()
    {
        var from = new Option<DirectoryInfo>("--from")
        {
            Description = "Folder with customers.csv, accounts.csv, transactions.csv, loans.csv and loan_payments.csv (layout in the README).",
            DefaultValueFactory = _ => new DirectoryInfo(DefaultFolder),
        };
        var data = CommonOptions.Data();
        var partitions = CommonOptions.Partitions();
        var command = new Command("backfill", "Append the five CSV files to the event log as the generator's events (idempotent: a re-run appends nothing); rows that break the layout go to quarantine.")
        {
            from, data, partitions,
        };
        command.SetAction(async (parse, ct) =>
        {
            var folder = parse.GetValue(from)!.FullName;
            try
            {
                BackfillLoader.CheckHeaders(folder);
            }
            catch (BackfillLayoutException problem)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(problem.Message);
                return CommandLineApp.UsageError;
            }

            var logDirectory = Path.Combine(parse.GetValue(data)!.FullName, "log");
            var overrides = new Dictionary<string, string?>
            {
                ["EventLog:Embedded:Directory"] = logDirectory,
                ["EventLog:Partitions"] = parse.GetValue(partitions)?.ToString(CultureInfo.InvariantCulture),
            }.Where(kv => kv.Value is not null).ToDictionary();
            return await RunAsync(folder, overrides, ct);
        });
        return command;
    }

    /// <summary>Backfills <paramref name="folder"/> into the log configured by <paramref name="overrides"/> (and the environment); prints progress and the summary.</summary>
    public static async Task<int> RunAsync(string folder, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        using var host = PipelineHost.Build(overrides, LogLevel.Warning, PipelineParts.None);
        var log = host.Services.GetRequiredService<IEventLog>();
        var progress = new BackfillProgress();
        using var loader = new BackfillLoader(log, progress);
        var work = loader.RunAsync(folder, cancellationToken);
        await BackfillConsole.ShowProgressAsync(progress, work);
        BackfillReport report;
        try
        {
            report = await work;
        }
        catch (BackfillLayoutException problem)
        {
            await Console.Error.WriteLineAsync(problem.Message);
            return CommandLineApp.UsageError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Backfill cancelled; what was appended stays, and a re-run appends only the rest.");
            return 130;
        }

        BackfillConsole.Summary(report, folder, $"event log '{log.Name}' ({log.PartitionCount} partitions)");
        return 0;
    }

    public static Command CreateExport()
    {
        var to = new Option<DirectoryInfo>("--to")
        {
            Description = "Folder to write the five CSV files into (created if missing; existing files are replaced).",
            DefaultValueFactory = _ => new DirectoryInfo(DefaultFolder),
        };
        var events = CommonOptions.Number("--events", "Events of the generated stream to export (its valid records become rows).",
            1L, long.MaxValue, "a whole number of at least 1", "pass e.g. --events 200000", 200_000L);
        var seed = CommonOptions.Number<long>("--seed", "Seed of the synthetic bank (as for run).",
            long.MinValue, long.MaxValue, "a whole number", "pass e.g. --seed 42");
        var start = CommonOptions.UtcInstant("--start", "Simulated clock start, a UTC instant such as 2026-01-01T00:00:00Z.");
        var command = new Command("export-csv", "Write a generated bank (the valid records of the first N events) as customers.csv, accounts.csv, transactions.csv, loans.csv and loan_payments.csv.")
        {
            to, events, seed, start,
        };
        command.SetAction((parse, ct) =>
        {
            // The stream-shaping settings come from the environment too (Generator__InitialCustomers=…), as for run.
            var options = new GeneratorOptions();
            new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection("Generator").Bind(options);
            if (parse.GetValue(seed) is { } s)
            {
                options.Seed = s;
            }

            if (parse.GetValue(start) is { } at)
            {
                options.Start = at;
            }

            var folder = parse.GetValue(to)!.FullName;
            try
            {
                Directory.CreateDirectory(folder);
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"--to {folder} cannot be created: {problem.Message.TrimEnd('.')}. Fix: pass --to a folder you can write, e.g. --to ./csv.");
                return Task.FromResult(CommandLineApp.UsageError);
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            var total = parse.GetValue(events);
            var report = CsvExporter.Export(options, total, folder,
                done => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{watch.Elapsed:hh\\:mm\\:ss} exported {done:N0} of {total:N0} events")), ct);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Exported {report.Records:N0} generated events (seed {options.Seed}, start {options.Start:yyyy-MM-ddTHH:mm:ss}Z) to {folder} in {watch.Elapsed.TotalSeconds:N2} s; left out {report.LeftOut:N0} duplicates and deliberately broken records:"));
            foreach (var layout in CsvLayouts.All)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {layout.FileName,-18} {report.RowsByFile[layout.File],12:N0} rows"));
            }

            return Task.FromResult(0);
        });
        return command;
    }
}
