using System.CommandLine;
using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cli.Presentation;
using BaloyiBank.Cli.Deploy;
using BaloyiBank.Cli.Gold;
using BaloyiBank.Lake;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using Spectre.Console;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>baloyi verify --data D</c>: recomputes every gold table from silver with DuckDB SQL alone (no aggregator
/// code) and compares row by row. Exit 0 when everything matches, 1 on any difference, 2 when there is nothing to verify.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        // Verification writes scratch copies (.verify-audit, .verify-warehouse) in the folder.
        var data = CommonOptions.ExistingData(DataAccess.WriteIfExists, "The data folder of a run (its lake is <data>/lake).");
        var warehouse = CommonOptions.Warehouse("The warehouse the run loaded: duckdb (default, <data>/warehouse.duckdb) or the same postgres://… URL given to run.");
        var eventLog = EventLogChoice.Option("The event log the run used, when not embedded: the same --event-log given to run (its secret is not kept in the folder).");
        var command = new Command("verify", "Recompute gold from silver with DuckDB SQL and compare row by row, then the warehouse with gold; non-zero exit on any difference.") { data, warehouse, eventLog };
        command.SetAction(async (parse, ct) =>
        {
            var console = RunConsole.CreateConsole();
            var root = parse.GetValue(data)!.FullName;
            VerifyTarget? target;
            try
            {
                target = await VerifyTarget.OpenAsync(root, parse.GetValue(warehouse), ct, parse.GetValue(eventLog));
            }
            catch (EventLog.EventLogConfigurationException problem)
            {
                console.MarkupLineInterpolated($"[red]{problem.Message}[/]");
                return 2;
            }

            if (target is null)
            {
                console.MarkupLineInterpolated($"[red]No lake at {Path.Combine(root, "lake")} and no deployment ({Deployment.FileName}) in {root}.[/] Fix: pass --data with the folder `baloyi run --data` or `baloyi up --data` used.");
                return 2;
            }

            await using var _ = target;
            var lake = target.Lake;
            console.MarkupLineInterpolated($"Verifying {target.Description}");
            var auditMatches = await VerifyAuditAsync(console, target, ct);
            GoldVerificationReport report;
            try
            {
                report = await GoldVerifier.VerifyAsync(lake, new AggregatorOptions(), ct);
            }
            catch (Exception failure) when (failure is Delta.DeltaTableNotFoundException or InvalidOperationException)
            {
                console.MarkupLineInterpolated($"[red]Nothing to verify:[/] {failure.Message}");
                return 2;
            }

            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Gold round {report.Round:N0}, against silver as of the versions that round applied ({string.Join(", ", report.SilverVersions.Select(v => $"{v.Key} v{v.Value}"))}); silver commits since: {report.SilverCommitsAhead:N0}");
            var table = new Table().Border(TableBorder.Simple).Title("Gold vs a fresh recomputation from silver (DuckDB SQL)")
                .AddColumn("table").AddColumn(new TableColumn("gold rows").RightAligned()).AddColumn(new TableColumn("recomputed rows").RightAligned())
                .AddColumn(new TableColumn("missing or different").RightAligned()).AddColumn(new TableColumn("unexpected").RightAligned()).AddColumn("match");
            foreach (var t in report.Tables)
            {
                table.AddRow(t.Table, N(t.GoldRows), N(t.ExpectedRows), N(t.MissingOrDifferent), N(t.Unexpected), t.Matches ? "yes" : "NO");
            }

            console.Write(table);
            foreach (var t in report.Tables.Where(t => !t.Matches))
            {
                foreach (var example in t.Examples)
                {
                    console.MarkupLineInterpolated($"  {t.Table}: {example}");
                }
            }

            if (report.CurrentStateProblems.Count == 0)
            {
                console.MarkupLine("Gold current-state tables (what Spark, Synapse or DuckDB read): one row per key, each the latest change image.");
            }

            foreach (var problem in report.CurrentStateProblems)
            {
                console.MarkupLineInterpolated($"[red]Gold current state:[/] {problem}");
            }

            if (report.Matches)
            {
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]Gold matches silver: {report.Tables.Sum(t => t.GoldRows):N0} rows compared, 0 differences.[/]");
            }
            else
            {
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]{report.Differences:N0} differences.[/]");
            }

            var warehouseMatches = await VerifyWarehouseAsync(console, lake, root, target.Warehouse, ct);
            return report.Matches && warehouseMatches && auditMatches ? 0 : 1;
        });
        return command;
    }

    /// <summary>Every warehouse table against gold's current rows at the warehouse's watermark, both ways.</summary>
    private static async Task<bool> VerifyWarehouseAsync(IAnsiConsole console, ILakeStore lake, string dataDirectory, WarehouseOptions options, CancellationToken ct)
    {
        if (options.Kind == "duckdb" && !File.Exists(options.DuckDbPath))
        {
            console.MarkupLineInterpolated($"No warehouse at {options.DuckDbPath}: nothing loaded yet, nothing to compare.");
            return true;
        }

        await using var store = WarehouseFactory.Create(options);
        var report = await WarehouseReport.VerifyAsync(lake, store, new SinkOptions(), Path.Combine(dataDirectory, ".verify-warehouse"), ct);
        var table = new Table().Border(TableBorder.Simple).Title($"Warehouse ({options.Kind}) vs gold at round {report.Watermark.ToString(CultureInfo.InvariantCulture)}")
            .AddColumn("table").AddColumn(new TableColumn("warehouse rows").RightAligned()).AddColumn(new TableColumn("gold rows").RightAligned())
            .AddColumn(new TableColumn("missing").RightAligned()).AddColumn(new TableColumn("unexpected").RightAligned()).AddColumn("match");
        foreach (var t in report.Tables)
        {
            table.AddRow(t.Table, N(t.WarehouseRows), N(t.GoldRows), N(t.Missing), N(t.Unexpected), t.Differences == 0 ? "yes" : "NO");
        }

        console.Write(table);
        if (report.Matches)
        {
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]The warehouse matches gold: {report.RowsCompared:N0} rows compared, 0 differences.[/]");
        }
        else
        {
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]The warehouse differs from gold in {report.Differences:N0} rows.[/]");
        }

        if (report.GoldRound > report.Watermark)
        {
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Gold is {report.GoldRound - report.Watermark:N0} rounds ahead of the warehouse (not loaded yet).");
        }

        return report.Matches;
    }

    /// <summary>The cleansing audit: consumed = silver + quarantined + duplicates per partition, batches tiling the log to its end.</summary>
    private static async Task<bool> VerifyAuditAsync(IAnsiConsole console, VerifyTarget target, CancellationToken ct)
    {
        var log = await target.DescribeLogAsync(ct);
        var audit = await CleansingAudit.ReadAsync(target.Lake, log, Path.Combine(target.Root, ".verify-audit"), ct);
        if (audit.Count == 0)
        {
            console.MarkupLine("No cleansing batches committed yet.");
            return true;
        }

        var table = new Table().Border(TableBorder.Simple).Title("Cleansing audit (silver/_cleansing_batches) against the event log")
            .AddColumn(new TableColumn("partition").RightAligned()).AddColumn(new TableColumn("batches").RightAligned()).AddColumn(new TableColumn("consumed").RightAligned())
            .AddColumn(new TableColumn("silver").RightAligned()).AddColumn(new TableColumn("quarantined").RightAligned()).AddColumn(new TableColumn("duplicates").RightAligned())
            .AddColumn(new TableColumn("offsets").RightAligned()).AddColumn(new TableColumn("log next").RightAligned()).AddColumn("balanced, no gaps, at log end");
        foreach (var p in audit)
        {
            table.AddRow(N(p.Partition), N(p.Batches), N(p.Consumed), N(p.Silver), N(p.Quarantined), N(p.Duplicates),
                $"{N(p.FirstOffset)}..{N(p.LastOffset)}", p.LogNextOffset is { } next ? N(next) : "?", p.Balanced && p.CoversLog ? "yes" : "NO");
        }

        console.Write(table);
        long? logEvents = log?.Sum(p => p.NextOffset - p.FirstOffset);
        var matches = audit.All(p => p.Balanced && p.CoversLog) && (logEvents is not { } events || audit.Sum(a => a.Consumed) == events);
        console.MarkupLine((matches ? "[green]" : "[red]") + Markup.Escape(CleansingAudit.Describe(audit, logEvents)) + (matches ? ": every event accounted for.[/]" : ": NOT every event is accounted for.[/]"));
        return matches;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
