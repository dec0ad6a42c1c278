using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Tests;

/// <summary>
/// deploy/grafana's dashboards against what a real embedded pipeline (<c>baloyi run</c>'s host, the services' own
/// registrations) emits: every metric a query names is an instrument the run published, and every label a query
/// groups, filters or labels its legend by is a tag the run recorded on the instruments that query reads; every span name
/// and span attribute the trace dashboard's TraceQL uses was recorded.
/// (tests/BaloyiBank.Deploy.Tests checks the names and units without a run.)
/// </summary>
[Collection(PipelineTelemetry.Name)]
public sealed class GrafanaDashboardRunTests : IDisposable
{
    private const int Events = 5_000;

    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-grafana-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Every_metric_and_label_the_dashboards_query_is_emitted_by_a_run()
    {
        // Per instrument, the tag keys (and a few values) of every measurement taken while the pipeline runs.
        var emitted = new ConcurrentDictionary<PublishedInstrument, ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>>();
        var measured = new ConcurrentDictionary<PublishedInstrument, byte>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name.StartsWith(Telemetry.SourcePrefix, StringComparison.Ordinal))
                {
                    var published = PublishedInstrument.Of(instrument);
                    emitted.TryAdd(published, new(StringComparer.Ordinal));
                    l.EnableMeasurementEvents(instrument, published);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, state) => Record(emitted, measured, state, tags));
        listener.SetMeasurementEventCallback<int>((_, _, tags, state) => Record(emitted, measured, state, tags));
        listener.SetMeasurementEventCallback<double>((_, _, tags, state) => Record(emitted, measured, state, tags));
        listener.Start();

        // Every product span, recorded (as with an exporter and a sampler keeping everything): its name and attribute keys.
        var spans = new ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>(StringComparer.Ordinal);
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith(Telemetry.SourcePrefix, StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var keys = spans.GetOrAdd(activity.DisplayName, _ => new(StringComparer.Ordinal));
                foreach (var (key, _) in activity.TagObjects)
                {
                    keys.TryAdd(key, 0);
                }
            },
        };
        ActivitySource.AddActivityListener(tracing);

        var overrides = new Dictionary<string, string?>
        {
            ["EventLog:Embedded:Directory"] = Path.Combine(_root, "log"),
            ["Lake:Folder:Root"] = Path.Combine(_root, "lake"),
            ["Warehouse:DuckDbPath"] = Path.Combine(_root, "warehouse.duckdb"),
            ["EventLog:Partitions"] = "2",
            ["Generator:MaxEvents"] = Events.ToString(CultureInfo.InvariantCulture),
            ["Generator:Rate"] = "5000",
            ["Cleansing:FlushRows"] = "1000",
            ["Sink:Interval"] = "00:00:01",
        };
        using (var host = PipelineHost.Build(overrides, LogLevel.Warning, PipelineParts.All,
            services => services.AddSingleton<IUpstreamCompletion>(new NeverComplete())))
        {
            var cleansing = host.Services.GetRequiredService<CleansingProgress>();
            await host.StartAsync();
            try
            {
                // Until every event is in silver and the warehouse stage has recorded latencies (the last hop).
                var watch = Stopwatch.StartNew();
                while (cleansing.Consumed < Events || !StageValues(emitted).Contains(PipelineLatency.Warehouse))
                {
                    Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2),
                        $"consumed {cleansing.Consumed} of {Events}; latency stages seen: {string.Join(", ", StageValues(emitted))}");
                    listener.RecordObservableInstruments();
                    await Task.Delay(200);
                }

                listener.RecordObservableInstruments();
            }
            finally
            {
                await host.StopAsync();
            }
        }

        // The heatmap's stage variable offers exactly the stages the histogram is recorded with.
        Assert.Equal([PipelineLatency.Gold, PipelineLatency.Silver, PipelineLatency.Warehouse], StageValues(emitted).Order(StringComparer.Ordinal));

        var byName = GrafanaDashboards.ByPrometheusName(emitted.Keys);
        var queries = GrafanaDashboards.Queries(DashboardFolder());
        Assert.NotEmpty(queries);
        var problems = new List<string>();
        var labelsChecked = 0;
        var checkedQueries = 0;
        foreach (var query in queries)
        {
            var instruments = new List<PublishedInstrument>();
            foreach (var metric in GrafanaDashboards.MetricNames(query.Expression))
            {
                if (byName.TryGetValue(metric, out var instrument))
                {
                    instruments.Add(instrument);
                }
                else
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': {metric} was not published by the run");
                }
            }

            // Labels are checked where the run measured the instruments (a retry or a failed load never happens here).
            var tags = instruments.SelectMany(i => emitted[i].Keys).Select(GrafanaDashboards.LabelName).ToHashSet(StringComparer.Ordinal);
            checkedQueries += instruments.Any(measured.ContainsKey) ? 1 : 0;
            if (!instruments.Any(measured.ContainsKey))
            {
                continue;
            }

            foreach (var label in GrafanaDashboards.LabelNames(query.Expression, query.Legend).Where(l => !GrafanaDashboards.SeriesLabels.Contains(l)))
            {
                labelsChecked++;
                if (!tags.Contains(label))
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': label {label} is not a tag of {string.Join(", ", instruments.Select(i => i.Name))} (tags: {string.Join(", ", tags)})");
                }
            }
        }

        // The trace dashboard's TraceQL: every span name it matches and every span attribute it filters by was recorded.
        var traceQueries = GrafanaDashboards.TraceQueries(DashboardFolder());
        Assert.NotEmpty(traceQueries);
        foreach (var query in traceQueries)
        {
            foreach (var (op, name) in GrafanaDashboards.SpanNames(query.Expression))
            {
                var found = op == "=" ? spans.ContainsKey(name) : spans.Keys.Any(n => System.Text.RegularExpressions.Regex.IsMatch(n, $"^(?:{name})$"));
                if (!found)
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': no span named {op} \"{name}\" was recorded (spans: {string.Join(", ", spans.Keys.Order(StringComparer.Ordinal))})");
                }
            }

            foreach (var attribute in GrafanaDashboards.SpanAttributes(query.Expression))
            {
                if (!spans.Values.Any(keys => keys.ContainsKey(attribute)))
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': no span carries the attribute {attribute}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.True(labelsChecked >= 15 && checkedQueries * 10 >= queries.Count * 8,
            $"only {labelsChecked} labels in {checkedQueries} of {queries.Count} queries were checked against the run's tags; unmeasured: {string.Join(", ", emitted.Keys.Where(i => !measured.ContainsKey(i)).Select(i => i.Name))}");
    }

    private static void Record(
        ConcurrentDictionary<PublishedInstrument, ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>> emitted,
        ConcurrentDictionary<PublishedInstrument, byte> measured, object? state, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var instrument = (PublishedInstrument)state!;
        measured.TryAdd(instrument, 0);
        var keys = emitted[instrument];
        foreach (var (key, value) in tags)
        {
            var values = keys.GetOrAdd(key, _ => new(StringComparer.Ordinal));
            if (values.Count < 32)
            {
                values.TryAdd(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", 0);
            }
        }
    }

    private static List<string> StageValues(ConcurrentDictionary<PublishedInstrument, ConcurrentDictionary<string, ConcurrentDictionary<string, byte>>> emitted) =>
        [.. emitted.Where(e => e.Key.Name == PipelineLatency.Name)
            .SelectMany(e => e.Value.TryGetValue(PipelineLatency.StageTag, out var values) ? values.Keys : [])
            .Distinct(StringComparer.Ordinal)];

    private static string DashboardFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BaloyiBank.Streaming.sln")))
            {
                return Path.Combine(dir.FullName, "deploy", "grafana", "dashboards");
            }
        }

        throw new InvalidOperationException($"No BaloyiBank.Streaming.sln above {AppContext.BaseDirectory}.");
    }

    private sealed class NeverComplete : IUpstreamCompletion
    {
        public bool IsComplete => false;
    }
}
