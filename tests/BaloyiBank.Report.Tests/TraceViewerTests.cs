using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.Report.Tests;

/// <summary>
/// <c>baloyi run --dashboard</c> end to end: the run sends its spans to the standalone Aspire dashboard, the test reads
/// them back through the dashboard's telemetry API (<c>/api/telemetry/spans</c>, <c>/api/telemetry/traces/{id}</c>),
/// and follows a sampled bank transaction (its <c>transaction.posted</c> event in the log names its <c>create</c> span
/// in the <c>traceparent</c> header) across the four services by parent ids and span links (generator <c>create</c> →
/// cleansing <c>process</c> → silver <c>commit</c> → aggregator <c>gold round</c> → gold <c>commit</c> → sink
/// <c>sink load</c> → <c>MERGE</c>), and Debian's chromium opens each of its traces' pages, which must show the spans.
/// Screenshots go to TestResults/screenshots.
/// </summary>
public sealed class TraceViewerTests(ITestOutputHelper output) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string DashboardLine = "Aspire dashboard: ";
    // The embedded run is one process, so one OTel resource: its service name (the four services are its ActivitySources).
    private const string Resource = "baloyi";
    private const string RunOverLine = "The run is over; the dashboard stays up";
    private readonly string _data = Directory.CreateTempSubdirectory("baloyi-traces-").FullName;

    [Fact]
    public async Task A_bank_transactions_journey_is_linked_across_the_four_services_and_its_trace_pages_show_the_spans()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run deploy/local/ensure-prereqs.sh --tests (it installs Debian's chromium).");
        // 20,000 events at 2,000/s: ~10 s of flushes, gold rounds and sink loads inside the host (the catch-up round
        // after the run is not traced), and 1 % of events sampled, so every flush holds sampled events.
        using var run = Start([("Telemetry__TraceSampleRatio", "0.01")],
            "run", "--dashboard", "--data", _data, "--events", "20000", "--rate", "2000");
        var stderr = new StringBuilder();
        run.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        run.BeginErrorReadLine();
        try
        {
            var dashboard = await WaitForDashboardAndRunEndAsync(run, stderr);
            using var http = new HttpClient { BaseAddress = dashboard, Timeout = TimeSpan.FromSeconds(30) };

            // Every span the run exported (the host flushed its exporters when it stopped, before "The run is over").
            var spans = await SpansAsync(http, "api/telemetry/spans?limit=10000");
            // Which sampled create spans are bank transactions' events: the log's records carry their traceparent.
            var transactions = await SampledTransactionsAsync(_data);
            Assert.True(transactions.Count > 0, "no transaction.posted event in the log was sampled (1 % of ~1,400)");
            var journey = FindJourney(spans, transactions);
            var transaction = transactions[journey.Create.SpanId];
            Assert.Equal(transaction.EventId, journey.Create.Attributes.GetValueOrDefault("messaging.message.id"));
            output.WriteLine($"transaction {transaction.TransactionId} (event {transaction.EventId}): create {journey.Create.TraceId}, process {journey.Process.TraceId}, gold round {journey.Round.TraceId}, sink load {journey.Load.TraceId}");

            // The same traces one by one, as the dashboard's trace endpoint returns them.
            var sinkTrace = await SpansAsync(http, $"api/telemetry/traces/{journey.Load.TraceId}");
            Assert.All(sinkTrace, s => Assert.Equal(journey.Load.TraceId, s.TraceId));
            Assert.Contains(sinkTrace, s => s.SpanId == journey.Load.SpanId && s.ParentSpanId is null);
            var merges = sinkTrace.Where(s => s.Scope == "BaloyiBank.Warehouse" && s.Name.StartsWith("MERGE ", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(merges);
            Assert.All(merges, m => Assert.Equal(journey.Load.SpanId, m.ParentSpanId));
            var roundTrace = await SpansAsync(http, $"api/telemetry/traces/{journey.Round.TraceId}");
            Assert.Contains(roundTrace, s => s.SpanId == journey.GoldCommit.SpanId && s.ParentSpanId == journey.Round.SpanId);

            var processTrace = await SpansAsync(http, $"api/telemetry/traces/{journey.Process.TraceId}");
            var createTrace = await SpansAsync(http, $"api/telemetry/traces/{journey.Create.TraceId}");
            await CheckTracePagesAsync(dashboard,
            [
                // The last hop first: the sink load and its MERGE children, then back up the journey.
                new(journey.Load.TraceId, "trace-sink-load", "sink load", sinkTrace.Count, ["sink load", .. merges.Select(m => m.Name)]),
                new(journey.Round.TraceId, "trace-gold-round", "gold round", roundTrace.Count, ["gold round", journey.GoldCommit.Name]),
                new(journey.Process.TraceId, "trace-cleansing-process", "process bank-events", processTrace.Count, ["process bank-events", journey.SilverCommit.Name]),
                // The grid names a producer span by its messaging system and destination; the title keeps the span's name.
                // Its details pane: the event id (messaging.message.id) of the transaction's event.
                new(journey.Create.TraceId, "trace-generator-create", "create bank-events", createTrace.Count, ["MSG baloyibank.eventlog bank-events"], transaction.EventId),
            ]);
        }
        finally
        {
            // The run waits for Ctrl-C to keep the dashboard up; killing its tree ends the dashboard child too.
            run.Kill(entireProcessTree: true);
            await run.WaitForExitAsync();
        }
    }

    /// <summary>Reads stdout until the run prints the dashboard's address and then says the run is over.</summary>
    private async Task<Uri> WaitForDashboardAndRunEndAsync(Process run, StringBuilder stderr)
    {
        Uri? dashboard = null;
        var seen = new StringBuilder();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        while (await run.StandardOutput.ReadLineAsync(limit.Token) is { } line)
        {
            seen.AppendLine(line);
            if (line.StartsWith(DashboardLine, StringComparison.Ordinal))
            {
                output.WriteLine(line);
                dashboard = new Uri(line[DashboardLine.Length..].Split(' ')[0]);
            }
            else if (line.StartsWith(RunOverLine, StringComparison.Ordinal))
            {
                Assert.NotNull(dashboard);
                return dashboard;
            }
        }

        await run.WaitForExitAsync(limit.Token);
        lock (stderr)
        {
            throw new InvalidOperationException($"baloyi run --dashboard exited ({run.ExitCode}) without keeping the dashboard up:\n{stderr}\n{seen}");
        }
    }

    /// <summary>
    /// One journey through all four services: a <c>sink load</c> (sink) linked to a gold <c>commit</c> whose parent is
    /// a <c>gold round</c> (aggregator) linked to a silver <c>commit</c> whose parent is a <c>process</c> (cleansing)
    /// linked to an event's <c>create</c> (generator). Every hop is a different trace, as the README says.
    /// </summary>
    private static Journey FindJourney(IReadOnlyList<Span> spans, IReadOnlyDictionary<string, Transaction> transactions)
    {
        var byId = spans.ToDictionary(s => s.SpanId);
        // A link names a trace and a span: both must match a span the dashboard holds.
        IEnumerable<Span> Linked(Span from, string scope, string namePrefix) =>
            from.Links.Select(l => byId.GetValueOrDefault(l.SpanId)).OfType<Span>()
                .Where(s => from.Links.Contains((s.TraceId, s.SpanId)) && s.Scope == scope && s.Name.StartsWith(namePrefix, StringComparison.Ordinal));
        Span? Parent(Span child) => child.ParentSpanId is { } parent ? byId.GetValueOrDefault(parent) : null;

        var loads = spans.Where(s => s.Scope == "BaloyiBank.Sink" && s.Name == "sink load").ToList();
        Assert.True(loads.Count > 0, $"no sink load span among {spans.Count} spans: {Census(spans)}");
        foreach (var load in loads)
        {
            foreach (var goldCommit in Linked(load, "BaloyiBank.Delta", "commit gold/"))
            {
                if (Parent(goldCommit) is not { Scope: "BaloyiBank.Aggregator", Name: "gold round" } round)
                {
                    continue;
                }

                foreach (var silverCommit in Linked(round, "BaloyiBank.Delta", "commit silver/"))
                {
                    if (Parent(silverCommit) is { Scope: "BaloyiBank.Cleansing", Name: "process bank-events" } process
                        && Linked(process, "BaloyiBank.Generator", "create bank-events").FirstOrDefault(c => transactions.ContainsKey(c.SpanId)) is { } create)
                    {
                        var journey = new Journey(create, process, silverCommit, round, goldCommit, load);
                        // Each batch hop starts a new trace: a root span with links, never a child of the one before.
                        Assert.Equal(4, new[] { create.TraceId, process.TraceId, round.TraceId, load.TraceId }.Distinct().Count());
                        Assert.All(new[] { process, round, load }, s => Assert.Null(s.ParentSpanId));
                        Assert.Equal(process.TraceId, silverCommit.TraceId);
                        Assert.Equal(round.TraceId, goldCommit.TraceId);
                        return journey;
                    }
                }
            }
        }

        throw new Xunit.Sdk.XunitException($"no sink load links back through a gold round, a silver commit and a cleansing flush to the create span of a sampled transaction ({transactions.Count} in the log): {Census(spans)}");
    }

    private static string Census(IEnumerable<Span> spans) =>
        string.Join(", ", spans.GroupBy(s => $"{s.Scope}: {s.Name}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"));

    /// <summary>Opens each trace's page and waits until it shows the trace's span count and every expected span row.</summary>
    private static async Task CheckTracePagesAsync(Uri dashboard, IReadOnlyList<TracePage> pages)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1200 } });
        foreach (var trace in pages)
        {
            await page.GotoAsync(new Uri(dashboard, $"traces/detail/{trace.TraceId}").ToString());
            // A Blazor page: the header shows the trace's short id once the circuit has rendered the trace.
            await Assertions.Expect(page.Locator("h1.page-header .trace-id")).ToContainTextAsync(trace.TraceId[..7], new() { Timeout = 60_000 });
            await Assertions.Expect(page.Locator("h1.page-header")).ToContainTextAsync($"{Resource}: {trace.RootName}");
            await Assertions.Expect(page.Locator(".trace-header")).ToContainTextAsync(
                new Regex($@"Total spans\s*{trace.SpanCount}\b"), new() { Timeout = 30_000 });
            foreach (var name in trace.RowNames)
            {
                // The span's name cell in the grid (its accessible name is "<resource>: <span>"), not the page title.
                await Assertions.Expect(page.GetByRole(AriaRole.Gridcell, new() { Name = $"{Resource}: {name}", Exact = true }).First)
                    .ToBeVisibleAsync(new() { Timeout = 30_000 });
            }

            if (trace.DetailText is { } detail)
            {
                await page.GetByRole(AriaRole.Gridcell, new() { Name = $"{Resource}: {trace.RowNames[0]}", Exact = true }).First.ClickAsync();
                await Assertions.Expect(page.GetByText(detail, new() { Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            }

            await ScreenshotAsync(page, trace.Screenshot);
        }
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        // tests/BaloyiBank.Report.Tests/TestResults/screenshots (the output is bin/<configuration>/<framework>).
        var folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "TestResults", "screenshots"));
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}.png"), FullPage = true });
    }

    /// <summary>The spans of a telemetry API answer (OTLP JSON: resourceSpans → scopeSpans → spans).</summary>
    private static async Task<List<Span>> SpansAsync(HttpClient http, string path)
    {
        using var document = await http.GetFromJsonAsync<JsonDocument>(path) ?? throw new InvalidOperationException($"{path} answered null");
        List<Span> spans = [];
        foreach (var resource in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                var scopeName = scope.GetProperty("scope").GetProperty("name").GetString()!;
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    var links = span.TryGetProperty("links", out var l)
                        ? l.EnumerateArray().Select(x => (x.GetProperty("traceId").GetString()!, x.GetProperty("spanId").GetString()!)).ToList()
                        : [];
                    var parent = span.TryGetProperty("parentSpanId", out var p) && p.GetString() is { Length: > 0 } id ? id : null;
                    // OTLP JSON attributes: {key, value: {stringValue|intValue|…}}; the value's text is enough here.
                    var attributes = span.TryGetProperty("attributes", out var a)
                        ? a.EnumerateArray().ToDictionary(x => x.GetProperty("key").GetString()!, x => x.GetProperty("value").EnumerateObject().First().Value.ToString())
                        : [];
                    spans.Add(new Span(scopeName, span.GetProperty("name").GetString()!, span.GetProperty("traceId").GetString()!,
                        span.GetProperty("spanId").GetString()!, parent, links, attributes));
                }
            }
        }

        return spans;
    }

    /// <summary>
    /// The <c>transaction.posted</c> events of the run's embedded log whose <c>traceparent</c> is sampled, by the span id
    /// it names (their <c>create</c> span). Read after the run has closed the log.
    /// </summary>
    private static async Task<Dictionary<string, Transaction>> SampledTransactionsAsync(string data)
    {
        Dictionary<string, Transaction> found = [];
        await using var log = EmbeddedEventLog.OpenExisting(Path.Combine(data, "log"));
        for (var partition = 0; partition < log.PartitionCount; partition++)
        {
            await using var reader = log.OpenReader(partition, StartPosition.Earliest);
            while (await reader.ReadAsync(50_000, TimeSpan.Zero) is { Count: > 0 } batch)
            {
                foreach (var record in batch)
                {
                    // W3C: 00-<trace id>-<span id>-<flags>; bit 0 of the flags = sampled (bit 1, "random", is set too).
                    if (record.Headers[EventHeaders.TraceParent]?.Split('-') is not [_, _, var spanId, var flags]
                        || (Convert.ToByte(flags, 16) & 1) == 0)
                    {
                        continue;
                    }

                    try
                    {
                        using var payload = JsonDocument.Parse(record.Value);
                        var root = payload.RootElement;
                        if (root.TryGetProperty("type", out var type) && type.GetString() == "transaction.posted"
                            && root.TryGetProperty("transactionId", out var id) && root.TryGetProperty("eventId", out var eventId))
                        {
                            found[spanId] = new Transaction(id.GetString()!, eventId.GetString()!);
                        }
                    }
                    catch (JsonException)
                    {
                        // A deliberately malformed event (the generator's defects): not a transaction to follow.
                    }
                }
            }
        }

        return found;
    }

    private static Process Start((string Name, string Value)[] environment, params string[] args) => BaloyiProcess.Start(environment, args);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A child still closing its files: the temp folder is cleaned later.
        }
    }

    private sealed record Span(string Scope, string Name, string TraceId, string SpanId, string? ParentSpanId, IReadOnlyList<(string TraceId, string SpanId)> Links, IReadOnlyDictionary<string, string> Attributes);

    private sealed record Transaction(string TransactionId, string EventId);

    private sealed record TracePage(string TraceId, string Screenshot, string RootName, int SpanCount, string[] RowNames, string? DetailText = null);

    private sealed record Journey(Span Create, Span Process, Span SilverCommit, Span Round, Span GoldCommit, Span Load);
}
