using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace BaloyiBank.Cli.Tests;

/// <summary>
/// The embedded pipeline (<c>baloyi run</c>'s host: the same registrations each service's own executable uses) with
/// the product's sources, meters and journey sampler exported to memory: one sampled event's story is followed hop by
/// hop through parents and links, from the generator's <c>create</c> to the warehouse MERGE.
/// </summary>
[Collection(PipelineTelemetry.Name)]
public sealed class TraceChainTests : IDisposable
{
    private const double SampleRatio = 0.01;
    private const int Events = 20_000;

    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-trace-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_sampled_event_is_followed_from_create_to_the_warehouse_merge_and_the_latency_histograms_are_exported()
    {
        var spans = new LockedList<Activity>();
        var metrics = new LockedList<MetricSnapshot>();
        var overrides = new Dictionary<string, string?>
        {
            ["EventLog:Embedded:Directory"] = Path.Combine(_root, "log"),
            ["Lake:Folder:Root"] = Path.Combine(_root, "lake"),
            ["Warehouse:DuckDbPath"] = Path.Combine(_root, "warehouse.duckdb"),
            ["EventLog:Partitions"] = "4",
            ["Generator:MaxEvents"] = Events.ToString(CultureInfo.InvariantCulture),
            ["Generator:Rate"] = "10000",
            ["Generator:BatchSize"] = "500",
            ["Cleansing:FlushAge"] = "00:00:00.500",
            // Flushes stay near 1,000 events even behind a backlog (pending rows are bounded by 2 × FlushRows + a read per
            // partition): ~10-30 sampled ones at 1 %, well within the 128 links a flush span keeps.
            ["Cleansing:FlushRows"] = "1000",
            ["Cleansing:ReadBatchRecords"] = "250",
            ["Sink:Interval"] = "00:00:01",
        };
        using var host = PipelineHost.Build(overrides, LogLevel.Warning, PipelineParts.All, services =>
        {
            // What ServiceDefaults registers when an exporter is configured, with an in-memory exporter instead.
            services.ConfigureOpenTelemetryTracerProvider(t => Telemetry.AddProductSources(t)
                .SetSampler(new JourneySampler(SampleRatio))
                .AddInMemoryExporter(spans));
            services.ConfigureOpenTelemetryMeterProvider(m => Telemetry.AddProductMeters(m)
                .AddInMemoryExporter(metrics, o => o.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 500));
            // The host stays up once the log is drained (run would stop it and catch gold and the warehouse up itself).
            services.AddSingleton<IUpstreamCompletion>(new NeverComplete());
        });
        var cleansing = host.Services.GetRequiredService<CleansingProgress>();

        await host.StartAsync();
        Chain? chain = null;
        try
        {
            // Until every sampled event's flush span is exported and one sampled event's story has reached a MERGE.
            await WaitForAsync(() =>
            {
                var all = spans.Snapshot();
                chain = FollowAnyEvent(all);
                return cleansing.Consumed == Events && chain is not null && EveryCreateIsLinked(all);
            }, TimeSpan.FromMinutes(2), () => $"consumed {cleansing.Consumed} of {Events}; every create linked: {EveryCreateIsLinked(spans.Snapshot())}; "
                + $"deepest hop: {Deepest(spans.Snapshot())}; spans: {Describe(spans.Snapshot())}");
        }
        finally
        {
            await host.StopAsync();
        }

        var exported = spans.Snapshot();
        var creates = exported.Where(s => s.Source.Name == "BaloyiBank.Generator" && s.DisplayName == "create bank-events").ToList();
        // The ratio holds for new journeys (binomial around 200 of 20,000; far outside this only if sampling broke).
        Assert.InRange(creates.Count, 100, 400);
        Assert.True(EveryCreateIsLinked(exported), "a sampled event is not linked from any exported cleansing flush span");

        var c = chain!;
        Assert.Equal(ActivityKind.Consumer, c.Process.Kind);
        Assert.Equal("process", c.Process.GetTagItem("messaging.operation.type"));
        Assert.Equal(c.Process.SpanId, c.SilverCommit.ParentSpanId);
        Assert.StartsWith("silver/", (string)c.SilverCommit.GetTagItem("baloyibank.delta.table")!, StringComparison.Ordinal);
        Assert.Equal(c.Round.SpanId, c.GoldCommit.ParentSpanId);
        Assert.StartsWith("gold/", (string)c.GoldCommit.GetTagItem("baloyibank.delta.table")!, StringComparison.Ordinal);
        Assert.Equal(c.Load.SpanId, c.Merge.ParentSpanId);
        Assert.Equal("duckdb", c.Merge.GetTagItem("db.system.name"));
        Assert.Equal("MERGE", c.Merge.GetTagItem("db.operation.name"));
        Assert.NotNull(c.Merge.GetTagItem("baloyibank.db.rows_affected"));
        // The cleansing flush's SilverBatchCommitted publish continues the flush's trace (MassTransit, over the bus).
        Assert.Contains(exported, s => s.Source.Name == "MassTransit" && s.TraceId == c.Process.TraceId && s.Kind == ActivityKind.Producer);
        // Rounds also link the SilverBatchCommitted consume spans that woke them (the message path beside the commits' record).
        var consumes = exported.Where(s => s.Source.Name == "MassTransit" && s.Kind == ActivityKind.Consumer).Select(s => s.SpanId).ToHashSet();
        Assert.Contains(exported, s => s.DisplayName == "gold round" && s.Links.Any(l => consumes.Contains(l.Context.SpanId)));
        // The round announces GoldCommitted from inside its span.
        Assert.Contains(exported, s => s.Source.Name == "MassTransit" && s.TraceId == c.Round.TraceId && s.Kind == ActivityKind.Producer);

        host.Services.GetRequiredService<MeterProvider>().ForceFlush();
        var latency = LatestPoints(metrics.Snapshot(), PipelineLatency.Name);
        Assert.All(latency.Values, l => Assert.Equal("s", l.Unit));
        foreach (var stage in new[] { PipelineLatency.Silver, PipelineLatency.Gold, PipelineLatency.Warehouse })
        {
            Assert.True(latency.TryGetValue(stage, out var point), $"no {PipelineLatency.Name} point for stage {stage}; stages seen: {string.Join(", ", latency.Keys)}");
            Assert.True(point.Count > 0, $"{stage}: no events measured");
            var mean = point.Sum / point.Count;
            // Seconds, not milliseconds or ticks: a local run makes events visible within a few seconds.
            Assert.InRange(mean, 0.001, 60);
        }

        // Each event is counted once per stage: silver sees every event, gold and the warehouse only what folded flushes held.
        Assert.Equal(Events, latency[PipelineLatency.Silver].Count);
        Assert.InRange(latency[PipelineLatency.Gold].Count, 1, Events);
        Assert.True(latency[PipelineLatency.Warehouse].Sum / latency[PipelineLatency.Warehouse].Count
            >= latency[PipelineLatency.Silver].Sum / latency[PipelineLatency.Silver].Count,
            "events reached the warehouse sooner on average than silver");
    }

    private sealed class NeverComplete : IUpstreamCompletion
    {
        public bool IsComplete => false;
    }

    private sealed record Chain(Activity Create, Activity Process, Activity SilverCommit, Activity Round, Activity GoldCommit, Activity Load, Activity Merge);

    /// <summary>Follows parents and links from each sampled event's create span; the first story that reaches a MERGE.</summary>
    private static Chain? FollowAnyEvent(IReadOnlyList<Activity> spans)
    {
        var bySource = spans.ToLookup(s => s.Source.Name);
        var processes = bySource["BaloyiBank.Cleansing"].ToList();
        var commits = bySource["BaloyiBank.Delta"].Where(s => s.DisplayName.StartsWith("commit ", StringComparison.Ordinal)).ToList();
        var rounds = bySource["BaloyiBank.Aggregator"].Where(s => s.DisplayName == "gold round").ToList();
        var loads = bySource["BaloyiBank.Sink"].Where(s => s.DisplayName == "sink load").ToList();
        var merges = bySource["BaloyiBank.Warehouse"].Where(s => s.DisplayName.StartsWith("MERGE ", StringComparison.Ordinal)).ToList();
        foreach (var create in bySource["BaloyiBank.Generator"].Where(s => s.DisplayName == "create bank-events"))
        {
            foreach (var process in processes.Where(p => LinksTo(p, create)))
            {
                foreach (var silver in commits.Where(c => c.ParentSpanId == process.SpanId && c.TraceId == process.TraceId
                    && ((string?)c.GetTagItem("baloyibank.delta.table"))?.StartsWith("silver/", StringComparison.Ordinal) == true))
                {
                    foreach (var round in rounds.Where(r => LinksTo(r, silver)))
                    {
                        foreach (var gold in commits.Where(c => c.ParentSpanId == round.SpanId && c.TraceId == round.TraceId))
                        {
                            foreach (var load in loads.Where(l => LinksTo(l, gold)))
                            {
                                if (merges.FirstOrDefault(m => m.ParentSpanId == load.SpanId && m.TraceId == load.TraceId) is { } merge)
                                {
                                    return new Chain(create, process, silver, round, gold, load, merge);
                                }
                            }
                        }
                    }
                }
            }
        }

        return null;
    }

    /// <summary>How far the best story got, for a failure message.</summary>
    private static string Deepest(IReadOnlyList<Activity> spans)
    {
        var bySource = spans.ToLookup(s => s.Source.Name);
        var creates = bySource["BaloyiBank.Generator"].Where(s => s.DisplayName == "create bank-events").ToList();
        var processes = bySource["BaloyiBank.Cleansing"].Where(p => creates.Any(c => LinksTo(p, c))).ToList();
        var silver = bySource["BaloyiBank.Delta"].Where(c => processes.Any(p => p.SpanId == c.ParentSpanId)).ToList();
        var rounds = bySource["BaloyiBank.Aggregator"].Where(r => silver.Any(c => LinksTo(r, c))).ToList();
        var gold = bySource["BaloyiBank.Delta"].Where(c => rounds.Any(r => r.SpanId == c.ParentSpanId)).ToList();
        var loads = bySource["BaloyiBank.Sink"].Where(l => gold.Any(c => LinksTo(l, c))).ToList();
        var merges = bySource["BaloyiBank.Warehouse"].Where(m => loads.Any(l => l.SpanId == m.ParentSpanId)).ToList();
        var allRounds = bySource["BaloyiBank.Aggregator"].ToList();
        var allLoads = bySource["BaloyiBank.Sink"].ToList();
        return $"processes linking creates {processes.Count}, their commits {silver.Count}, rounds linking them {rounds.Count} "
            + $"(round links: {string.Join("; ", allRounds.Select(r => r.Links.Count()))}), gold commits {gold.Count}, loads linking them {loads.Count} "
            + $"(load links: {string.Join("; ", allLoads.Select(r => r.Links.Count()))}), merges {merges.Count}";
    }

    /// <summary>Sampling keeps whole stories: every exported (sampled) create span is linked by an exported flush span.</summary>
    private static bool EveryCreateIsLinked(IReadOnlyList<Activity> spans)
    {
        var linked = spans.Where(s => s.Source.Name == "BaloyiBank.Cleansing").SelectMany(s => s.Links).Select(l => l.Context.SpanId).ToHashSet();
        var creates = spans.Where(s => s.Source.Name == "BaloyiBank.Generator" && s.DisplayName == "create bank-events").ToList();
        return creates.Count > 0 && creates.All(c => linked.Contains(c.SpanId));
    }

    private static bool LinksTo(Activity span, Activity target) =>
        span.Links.Any(l => l.Context.TraceId == target.TraceId && l.Context.SpanId == target.SpanId);

    private static string Describe(IReadOnlyList<Activity> spans) =>
        string.Join(", ", spans.GroupBy(s => $"{s.Source.Name}:{s.DisplayName}").Select(g => $"{g.Key}×{g.Count()}").Take(40));

    private sealed record HistogramPoint(string Unit, long Count, double Sum);

    /// <summary>The last exported histogram point of <paramref name="name"/> per stage (cumulative temporality: the latest holds everything).</summary>
    private static Dictionary<string, HistogramPoint> LatestPoints(IReadOnlyList<MetricSnapshot> snapshots, string name)
    {
        var points = new Dictionary<string, HistogramPoint>(StringComparer.Ordinal);
        foreach (var snapshot in snapshots.Where(s => s.Name == name))
        {
            foreach (var point in snapshot.MetricPoints)
            {
                string? stage = null;
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == PipelineLatency.StageTag)
                    {
                        stage = tag.Value as string;
                    }
                }

                if (stage is not null)
                {
                    points[stage] = new HistogramPoint(snapshot.Unit, point.GetHistogramCount(), point.GetHistogramSum());
                }
            }
        }

        return points;
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                Assert.Fail($"condition not met within {timeout}; spans so far: {describe()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The exporters add from whichever thread ends a span or collects metrics; the test reads snapshots.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];
        private readonly Lock _gate = new();

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public IReadOnlyList<T> Snapshot()
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_gate)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item)
        {
            lock (_gate)
            {
                return _items.Contains(item);
            }
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            lock (_gate)
            {
                _items.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(T item)
        {
            lock (_gate)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
