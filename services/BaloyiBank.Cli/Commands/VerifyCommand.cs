using System.CommandLine;
using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cli.Presentation;
using BaloyiBank.Lake;
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
        var command = new Command("verify", "Recompute gold from silver with DuckDB SQL and compare row by row; non-zero exit on any difference.") { data };
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
            return report.Matches ? 0 : 1;
        });
        return command;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
