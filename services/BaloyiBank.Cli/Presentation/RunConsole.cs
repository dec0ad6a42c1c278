using System.Globalization;
using BaloyiBank.EventLog;
using Spectre.Console;

namespace BaloyiBank.Cli.Presentation;

/// <summary>
/// What a person sees: a live view on a terminal (a line every few seconds when output is
/// redirected, so CI logs stay readable) and a summary in figures a person can check.
/// </summary>
internal sealed class RunConsole
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainRefresh = TimeSpan.FromSeconds(2);

    private readonly IAnsiConsole _out = CreateConsole();
    private readonly bool _interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Plain text, wide enough for the tables, when output goes to a file or a CI log.</summary>
    internal static IAnsiConsole CreateConsole()
    {
        if (!Console.IsOutputRedirected)
        {
            return AnsiConsole.Console;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        console.Profile.Width = 200;
        return console;
    }

    public void Header(string dataDirectory, string description) =>
        _out.MarkupLineInterpolated($"[bold]BaloyiBank.Streaming[/] run · data [blue]{dataDirectory}[/] · {description} · Ctrl-C stops cleanly");

    public static void InvalidConfiguration(IEnumerable<string> failures)
    {
        Console.Error.WriteLine("Invalid configuration; nothing was started:");
        foreach (var failure in failures)
        {
            Console.Error.WriteLine("  " + failure);
        }
    }

    public static void StartFailed(Exception failure) =>
        Console.Error.WriteLine($"Could not start: {failure.Message}");

    public async Task ShowProgressAsync(RunProgressSource progress, IEventLog log, CancellationToken stopping)
    {
        if (_interactive)
        {
            await _out.Live(Render(progress.Snapshot(), log.PartitionCount)).AutoClear(true).StartAsync(async ctx =>
            {
                while (!stopping.IsCancellationRequested)
                {
                    await Delay(LiveRefresh, stopping);
                    ctx.UpdateTarget(Render(progress.Snapshot(), log.PartitionCount));
                }
            });
            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            await Delay(PlainRefresh, stopping);
            var s = progress.Snapshot();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Elapsed:hh\\:mm\\:ss} generated {s.Generated:N0} ({s.EventsPerSecond:N0}/s) appended {s.Appended:N0} simulated clock {s.SimulatedClock:yyyy-MM-dd HH:mm}Z") + CleansingLine(s.Cleansing));
        }
    }

    public void Summary(RunSummary summary)
    {
        var run = summary.Run;
        _out.WriteLine();
        if (run.ByKind.Count == 0)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[bold]No generator in this run[/]: the pipeline processed what the log held in {run.Elapsed.TotalSeconds:N2} s");
        }
        else
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[bold]Generated {run.Generated:N0} events[/] in {run.Elapsed.TotalSeconds:N2} s ({run.EventsPerSecond:N0} events/s); appended {run.Appended:N0}; re-sent after a crash (catch-up) {run.CatchUp:N0}");
        }

        if (run.SimulatedFrom is { } from && run.SimulatedClock is { } to)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Simulated clock {from:yyyy-MM-dd HH:mm:ss}Z → {to:yyyy-MM-dd HH:mm:ss}Z");
        }

        if (run.ByKind.Count > 0)
        {
            _out.Write(Counts("Events by kind (defects on purpose)", "kind", run.ByKind, run.Generated));
            _out.Write(Counts("Events by type", "type", run.ByType, run.Generated));
        }

        var partitions = PartitionTable.Create(summary.LogName, summary.LogLocation ?? Path.Combine(summary.DataDirectory, "log"), summary.Partitions);
        _out.Write(partitions);

        if (summary.Gold is { } gold)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[bold]Gold[/] at round {gold.Round:N0} ({gold.RoundsThisRun:N0} rounds to catch up after the run): {string.Join(", ", gold.Rows.Select(r => $"{r.Key} {r.Value:N0} rows"))}");
            var balances = new Table().Title("Account balances by currency (gold)").Border(TableBorder.Simple)
                .AddColumn("currency").AddColumn(new TableColumn("accounts").RightAligned())
                .AddColumn(new TableColumn("balance").RightAligned()).AddColumn(new TableColumn("transactions").RightAligned());
            foreach (var total in gold.Balances)
            {
                balances.AddRow(total.Currency, N(total.Accounts), total.Balance.ToString("N2", CultureInfo.InvariantCulture), N(total.Transactions));
            }

            _out.Write(balances);
        }
        else if (summary.GoldError is { } goldError)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]Gold could not be brought up to date:[/] {goldError}");
        }

        if (summary.Warehouse is { } warehouse)
        {
            var v = warehouse.Verification;
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[bold]Warehouse[/] ({warehouse.Kind}) at gold round {v.Watermark:N0} ({warehouse.LoadsThisRun:N0} loads to catch up after the run, {warehouse.Inserted:N0} rows inserted, {warehouse.Updated:N0} updated): {string.Join(", ", v.Tables.Select(t => $"{t.Table} {t.WarehouseRows:N0} rows"))}; compared with gold: {v.Differences:N0} differences");
        }
        else if (summary.WarehouseError is { } warehouseError)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]The warehouse could not be brought up to date:[/] {warehouseError}");
        }

        if (run.Cleansing is { } cleansing)
        {
            _out.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[bold]Cleansing consumed {cleansing.Consumed:N0} events[/] = silver {cleansing.Valid:N0} + quarantined {cleansing.Quarantined:N0} + duplicates {cleansing.Duplicates:N0} in {cleansing.Batches:N0} committed micro-batches; lag {cleansing.Lag:N0}");
            var reconciliation = new Table().Title("What cleansing made of each generated kind (this run)").Border(TableBorder.Simple)
                .AddColumn("generated kind").AddColumn(new TableColumn("generated").RightAligned()).AddColumn("expected")
                .AddColumn(new TableColumn("observed").RightAligned()).AddColumn("match");
            foreach (var k in cleansing.ByGeneratorKind)
            {
                reconciliation.AddRow(k.Kind, N(k.Generated), k.Expected, N(k.Observed), k.Matches ? "yes" : "NO");
            }

            if (cleansing.ByGeneratorKind.Count > 0)
            {
                _out.Write(reconciliation);
            }

            _out.Write(Counts("Quarantined by reason", "reason", cleansing.QuarantinedByReason, cleansing.Quarantined));
        }

        if (summary.Error is { } error)
        {
            _out.MarkupLineInterpolated($"[red]The run stopped on an error:[/] {error}");
        }
    }

    private static Table Counts(string title, string what, IReadOnlyDictionary<string, long> counts, long total)
    {
        var table = new Table().Title(title).Border(TableBorder.Simple)
            .AddColumn(what).AddColumn(new TableColumn("count").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var (key, value) in counts)
        {
            table.AddRow(key, N(value), total == 0 ? "-" : (value / (double)total).ToString("P2", CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static Rows Render(RunSnapshot s, int partitionCount)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("generated", $"{N(s.Generated)} events · {s.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)}/s · appended {N(s.Appended)}");
        grid.AddRow("simulated clock", s.SimulatedClock?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z");
        grid.AddRow("by kind", string.Join("  ", s.ByKind.Where(k => k.Value > 0).Select(k => $"{k.Key} {N(k.Value)}")));
        if (s.Cleansing is { } c)
        {
            grid.AddRow("cleansing", CleansingLine(c).TrimStart(' ', '·'));
        }
        var offsets = new Table().Border(TableBorder.Rounded).Title("next offset per partition");
        for (var p = 0; p < partitionCount; p++)
        {
            offsets.AddColumn(new TableColumn($"p{p}").RightAligned());
        }

        offsets.AddRow([.. Enumerable.Range(0, partitionCount).Select(p => new Markup(p < s.NextOffsets.Count && s.NextOffsets[p] >= 0 ? N(s.NextOffsets[p]) : "-"))]);
        return new Rows(grid, offsets);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string CleansingLine(CleansingSnapshot? c) => c is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $" · cleansing consumed {c.Consumed:N0}: silver {c.Valid:N0}, quarantined {c.Quarantined:N0}, duplicates {c.Duplicates:N0}, lag {c.Lag:N0}");

    private static async Task Delay(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, stopping);
        }
        catch (OperationCanceledException)
        {
            // Stopping is the normal end of the view.
        }
    }
}
