using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BaloyiBank.Sink;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.Report.Tests;

/// <summary>
/// <c>baloyi report</c> end to end in a real browser: a small pipeline run fills a DuckDB warehouse, the report serves
/// it (read-only) from a child process, Debian's chromium opens the page through Playwright, and what the page shows
/// (totals per currency, the places table, top customers, the charts' data) equals the reporting views queried
/// directly; a filter then changes every figure to the views' filtered answer. Screenshots go to TestResults/screenshots.
/// </summary>
public sealed class ReportPageTests(ITestOutputHelper output) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _data = Directory.CreateTempSubdirectory("baloyi-report-").FullName;

    [Fact]
    public async Task The_page_shows_the_views_figures_and_a_filter_updates_every_chart()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run deploy/local/ensure-prereqs.sh --tests (it installs Debian's chromium).");
        // 20,000 events per simulated day: the run spans several days, so the date filter has days to narrow to.
        var run = await BaloyiAsync(TimeSpan.FromMinutes(10), [("Generator__EventsPerSimulatedDay", "20000")], "run", "--data", _data, "--events", "60000");
        Assert.True(run.Code == 0, $"baloyi run failed ({run.Code}):\n{run.Error}\n{run.Output}");

        var port = FreePort();
        using var report = Start("report", "--data", _data, "--port", port.ToString(CultureInfo.InvariantCulture));
        try
        {
            await CheckPageAsync(await ReportAddressAsync(report));
        }
        finally
        {
            report.Kill(entireProcessTree: true);
            await report.WaitForExitAsync();
        }
    }

    private async Task CheckPageAsync(Uri address)
    {

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 2000 } });
        List<string> consoleErrors = [];
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };
        await page.GotoAsync(address.ToString());
        await page.WaitForSelectorAsync("body[data-state='ready'][data-version='1']");
        Assert.True(await page.IsHiddenAsync("#error"), await page.TextContentAsync("#error") ?? string.Empty);

        // The page's own copy of the DuckDB views, opened read-only beside the report's read-only connection.
        using var views = ReportingQueries.OpenDuckDb(Path.Combine(_data, "warehouse.duckdb"));
        var all = new ReportFilter();
        await AssertPageShowsAsync(page, views, all);
        await ScreenshotAsync(page, "report-all");

        // A country and a category the data has: every chart and table changes to the filtered views' answer.
        var facets = views.Facets();
        var category = views.Categories(all).GroupBy(c => c.Category).OrderByDescending(g => g.Sum(c => c.TransactionCount)).First().Key;
        var country = views.Places(all).GroupBy(p => p.Country).OrderByDescending(g => g.Sum(p => p.TransactionCount)).Skip(facets.Countries.Count > 1 ? 1 : 0).First().Key;
        var before = await page.EvalOnSelectorAllAsync<string[]>("#totals tbody td", "cells => cells.map(c => c.textContent)");
        await page.SelectOptionAsync("#country", country);
        await page.WaitForSelectorAsync("body[data-state='ready'][data-version='2']");
        await page.SelectOptionAsync("#category", category);
        await page.WaitForSelectorAsync("body[data-state='ready'][data-version='3']");
        var filtered = new ReportFilter(Category: category, Country: country);
        await AssertPageShowsAsync(page, views, filtered);
        var after = await page.EvalOnSelectorAllAsync<string[]>("#totals tbody td", "cells => cells.map(c => c.textContent)");
        Assert.NotEqual(before, after);
        Assert.True(views.Trends(filtered).Sum(t => t.TransactionCount) < views.Trends(all).Sum(t => t.TransactionCount));
        await ScreenshotAsync(page, "report-filtered");

        // A date range on top: the trend charts' days are exactly the range's.
        var days = views.Trends(filtered).Select(t => t.Date).Distinct().Order().ToList();
        Assert.True(days.Count > 1, $"the run should span several days, not {string.Join(", ", days)}");
        await page.FillAsync("#from", days[1].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await page.DispatchEventAsync("#from", "change");
        await page.WaitForSelectorAsync("body[data-state='ready'][data-version='4']");
        await AssertPageShowsAsync(page, views, filtered with { From = days[1] });
        Assert.Equal(days.Skip(1).Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            await page.EvaluateAsync<string[]>("() => window.baloyiReport.charts['trend-count'].data.labels"));
        await ScreenshotAsync(page, "report-filtered-dates");

        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task While_another_process_writes_the_DuckDB_warehouse_the_report_refuses_with_what_to_do()
    {
        // This test process holds the file as DuckDB's one writer, as a running pipeline would.
        using var writer = new DuckDB.NET.Data.DuckDBConnection($"Data Source={Path.Combine(_data, "warehouse.duckdb")}");
        writer.Open();
        using (var command = writer.CreateCommand())
        {
            command.CommandText = "CREATE TABLE held (x INTEGER)";
            command.ExecuteNonQuery();
        }

        var result = await BaloyiAsync(TimeSpan.FromMinutes(2), [], "report", "--data", _data, "--port", FreePort().ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1, result.Code);
        Assert.Contains("read-only", result.Error, StringComparison.Ordinal);
        Assert.Contains("stop the pipeline writing it", result.Error, StringComparison.Ordinal);
    }

    /// <summary>Every figure the page shows for <paramref name="filter"/> equals the views' answer.</summary>
    private static async Task AssertPageShowsAsync(IPage page, ReportingQueries views, ReportFilter filter)
    {
        // Totals per currency: the page's table against the trend view summed per currency (never across currencies).
        var expectedTotals = views.Trends(filter).GroupBy(t => t.Currency).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Sum(t => t.TransactionCount)} {g.Sum(t => t.TotalAmount).ToString("F2", CultureInfo.InvariantCulture)} {g.Sum(t => t.NetAmount).ToString("F2", CultureInfo.InvariantCulture)}");
        Assert.Equal(expectedTotals, await RowsAsync(page, "#totals", "c[0].textContent, c[1].dataset.value, c[2].dataset.value, c[3].dataset.value"));
        Assert.NotEmpty(expectedTotals);

        var expectedPlaces = views.Places(filter).Select(p => $"{p.Country} {p.City} {p.Currency} {p.TransactionCount} {p.TotalAmount.ToString("F2", CultureInfo.InvariantCulture)}");
        Assert.Equal(expectedPlaces, await RowsAsync(page, "#places", "c[0].textContent, c[1].textContent, c[2].textContent, c[3].dataset.value, c[4].dataset.value"));

        var expectedTop = views.TopCustomers(filter, 10).Select(c => $"{c.Currency} {c.Rank} {c.CustomerId} {c.NetPosition.ToString("F2", CultureInfo.InvariantCulture)}");
        Assert.Equal(expectedTop, await RowsAsync(page, "#top-customers", "c[0].textContent, c[1].dataset.value, c[2].textContent, c[8].dataset.value"));

        // The charts' own data: transactions per day per currency, amount per category per currency.
        var trendCounts = views.Trends(filter).Select(t => $"{t.Currency} {t.Date:yyyy-MM-dd} {t.TransactionCount}").Order(StringComparer.Ordinal);
        Assert.Equal(trendCounts, await ChartPointsAsync(page, "trend-count"));
        var categoryAmounts = views.Categories(filter).Select(c => $"{c.Currency} {c.Category} {c.TotalAmount.ToString("F2", CultureInfo.InvariantCulture)}").Order(StringComparer.Ordinal);
        Assert.Equal(categoryAmounts, await ChartPointsAsync(page, "categories", amount: true));

        // The map draws one currency's places at their centroids.
        var map = await page.EvaluateAsync<JsonElement>("() => window.baloyiReport.data.map");
        var currency = map.GetProperty("currency").GetString();
        Assert.Equal(views.Places(filter).Count(p => p.Currency == currency), map.GetProperty("points").GetArrayLength());
    }

    private static async Task<List<string>> RowsAsync(IPage page, string table, string columns) =>
        [.. await page.EvalOnSelectorAllAsync<string[]>($"{table} tbody tr", $"rows => rows.map(r => {{ const c = r.children; return [{columns}].join(' '); }})")];

    /// <summary>A chart's non-zero points as "currency label value", sorted (zero is the chart's filler for a missing label).</summary>
    private static async Task<List<string>> ChartPointsAsync(IPage page, string chart, bool amount = false) =>
        [.. (await page.EvaluateAsync<string[]>(
            $"() => {{ const d = window.baloyiReport.charts['{chart}'].data; return d.datasets.flatMap(s => s.data.map((v, i) => [s.label, d.labels[i], v]))" +
            $".filter(p => p[2] !== 0).map(p => p[0] + ' ' + p[1] + ' ' + {(amount ? "p[2].toFixed(2)" : "p[2]")}); }}")).Order(StringComparer.Ordinal)];

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        // tests/BaloyiBank.Report.Tests/TestResults/screenshots (the output is bin/<configuration>/<framework>).
        var folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults", "screenshots"));
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
    }

    private async Task<Uri> ReportAddressAsync(Process report)
    {
        // The report prints its address once it listens; anything else before an exit is the reason it did not.
        var seen = new StringBuilder();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await report.StandardOutput.ReadLineAsync(limit.Token) is { } line)
        {
            seen.AppendLine(line);
            if (line.StartsWith("Report at ", StringComparison.Ordinal))
            {
                output.WriteLine(line);
                return new Uri(line["Report at ".Length..].Split(' ')[0]);
            }
        }

        throw new InvalidOperationException($"baloyi report exited without serving: {seen}{await report.StandardError.ReadToEndAsync(limit.Token)}");
    }

    private static async Task<(int Code, string Output, string Error)> BaloyiAsync(TimeSpan limit, (string Name, string Value)[] environment, params string[] args)
    {
        using var child = Start(environment, args);
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"baloyi {string.Join(' ', args)} did not finish within {limit}: {await stderr}");
        }

        return (child.ExitCode, await stdout, await stderr);
    }

    private static Process Start(params string[] args) => Start([], args);

    private static Process Start((string Name, string Value)[] environment, string[] args) => BaloyiProcess.Start(environment, args);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A report child still closing its file: the temp folder is cleaned later.
        }
    }
}
