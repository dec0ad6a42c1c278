using System.CommandLine;
using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cli.Presentation;
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
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "The data folder of a run (its lake is <data>/lake).",
            DefaultValueFactory = _ => new DirectoryInfo("data"),
        };
        var warehouse = new Option<string?>("--warehouse")
        {
            Description = "The warehouse the run loaded: duckdb (default, <data>/warehouse.duckdb) or the same postgres://… URL given to run.",
        };
        var command = new Command("verify", "Recompute gold from silver with DuckDB SQL and compare row by row, then the warehouse with gold; non-zero exit on any difference.") { data, warehouse };
        command.SetAction(async (parse, ct) =>
        {
            var console = RunConsole.CreateConsole();
            var lakeRoot = Path.Combine(parse.GetValue(data)!.FullName, "lake");
            if (!Directory.Exists(lakeRoot))
            {
                console.MarkupLineInterpolated($"[red]No lake at {lakeRoot}.[/] Fix: pass --data with the folder a `baloyi run --data` wrote.");
                return 2;
            }

            var lake = new FolderLakeStore(lakeRoot);
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

            if (report.Matches)
            {
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]Gold matches silver: {report.Tables.Sum(t => t.GoldRows):N0} rows compared, 0 differences.[/]");
            }
            else
            {
                console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]{report.Differences:N0} differences.[/]");
            }

            var warehouseMatches = await VerifyWarehouseAsync(console, lake, parse.GetValue(data)!.FullName, parse.GetValue(warehouse), ct);
            return report.Matches && warehouseMatches ? 0 : 1;
        });
        return command;
    }

    /// <summary>Every warehouse table against gold's current rows at the warehouse's watermark, both ways.</summary>
    private static async Task<bool> VerifyWarehouseAsync(IAnsiConsole console, ILakeStore lake, string dataDirectory, string? warehouse, CancellationToken ct)
    {
        var options = new WarehouseOptions { DuckDbPath = Path.Combine(dataDirectory, "warehouse.duckdb") };
        if (warehouse is { } url && url != "duckdb")
        {
            options.Kind = "postgres";
            options.ConnectionString = url;
        }
        else if (!File.Exists(options.DuckDbPath))
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

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
