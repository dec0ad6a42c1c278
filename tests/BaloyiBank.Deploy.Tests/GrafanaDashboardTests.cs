using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.Json;
using BaloyiBank.Aggregator;
using BaloyiBank.Cleansing;
using BaloyiBank.Generator;
using BaloyiBank.Sink;
using BaloyiBank.Tests.Shared;
using BaloyiBank.Warehouse;
using YamlDotNet.RepresentationModel;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// deploy/grafana: every metric a dashboard's PromQL names is one the services really publish, under the name Prometheus
/// gives it when it receives OTLP (grafana/otel-lgtm: Prometheus' OTLP receiver, names with type and unit suffixes), and the
/// dashboards are provisioned by the otel-lgtm service of docker-compose.yml. No Grafana runs here.
/// </summary>
public sealed class GrafanaDashboardTests
{
    private static readonly string Folder = Repo.PathOf("deploy", "grafana", "dashboards");

    /// <summary>The datasource uids grafana/otel-lgtm provisions (its grafana-datasources.yaml).</summary>
    private static readonly HashSet<string> ImageDatasources = new(["prometheus", "tempo", "loki"], StringComparer.Ordinal);

    [Fact]
    public void Every_metric_a_dashboard_queries_is_published_by_a_service_with_that_unit()
    {
        var names = GrafanaDashboards.ByPrometheusName(PublishedInstruments());
        var queries = GrafanaDashboards.Queries(Folder);
        Assert.True(queries.Count > 30, $"only {queries.Count} PromQL queries found in {Folder}");
        var problems = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            foreach (var metric in GrafanaDashboards.MetricNames(query.Expression))
            {
                used.Add(metric);
                if (!names.TryGetValue(metric, out var instrument))
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': {metric} is not a metric any service publishes (query: {query.Expression})");
                }
                else if (query.Expression.StartsWith("histogram_quantile(", StringComparison.Ordinal) && query.Unit != GrafanaDashboards.GrafanaUnit(instrument.Unit))
                {
                    problems.Add($"{query.Dashboard} / '{query.Panel}': shows quantiles of {instrument.Name} ({instrument.Unit}) in Grafana unit '{query.Unit}', expected '{GrafanaDashboards.GrafanaUnit(instrument.Unit)}'");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // The dashboards cover every stage: the pipeline latency and each service's own instruments.
        foreach (var needed in new[] { "baloyibank_pipeline_latency_seconds_bucket", "baloyibank_generator_events_total", "baloyibank_cleansing_lag",
                     "baloyibank_cleansing_events_quarantined_total", "baloyibank_aggregator_lag", "baloyibank_sink_lag", "baloyibank_warehouse_load_duration_seconds_bucket" })
        {
            Assert.Contains(needed, used);
        }
    }

    [Fact]
    public void The_instruments_are_collected_from_the_services_meters()
    {
        var published = PublishedInstruments();
        // One meter per service plus the warehouse engine's, each with its instruments.
        Assert.Equal(["BaloyiBank.Aggregator", "BaloyiBank.Cleansing", "BaloyiBank.Generator", "BaloyiBank.Sink", "BaloyiBank.Warehouse"],
            published.Select(i => i.Meter).Distinct().Order(StringComparer.Ordinal));
        var latency = published.Where(i => i.Name == "baloyibank.pipeline.latency").ToList();
        Assert.Equal(3, latency.Count); // cleansing, aggregator and sink each record their stage
        Assert.All(latency, i => Assert.Equal(("s", InstrumentKind.Histogram), (i.Unit, i.Kind)));

        // A telemetry owner added later must be added to PublishedInstruments, or its instruments would go unchecked.
        var owners = new[] { typeof(GeneratorTelemetry), typeof(CleansingTelemetry), typeof(AggregatorMetrics), typeof(SinkMetrics), typeof(WarehouseTelemetry) };
        var withMeters = owners.Select(o => o.Assembly).Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public).Any(f => f.FieldType == typeof(Meter)))
            .ToList();
        Assert.Empty(withMeters.Except(owners));
    }

    [Theory]
    [InlineData("baloyibank.sink.load.duration", "s", "Histogram", "baloyibank_sink_load_duration_seconds")]
    [InlineData("baloyibank.cleansing.batch.bytes", "By", "Histogram", "baloyibank_cleansing_batch_bytes")]
    [InlineData("baloyibank.cleansing.events.quarantined", "{event}", "Counter", "baloyibank_cleansing_events_quarantined_total")]
    [InlineData("baloyibank.cleansing.lag", "{event}", "Gauge", "baloyibank_cleansing_lag")]
    [InlineData("baloyibank.aggregator.rows_folded", "{row}", "Counter", "baloyibank_aggregator_rows_folded_total")]
    [InlineData("process.cpu.utilization", "1", "Gauge", "process_cpu_utilization_ratio")]
    [InlineData("http.requests.total", "{request}", "Counter", "http_requests_total")]
    [InlineData("io.rate", "By/s", "Gauge", "io_rate_bytes_per_second")]
    public void Names_follow_the_OTLP_to_Prometheus_translation(string name, string unit, string kind, string expected) =>
        Assert.Equal(expected, GrafanaDashboards.PrometheusName(name, unit, Enum.Parse<InstrumentKind>(kind)));

    [Fact]
    public void The_checker_finds_the_metrics_in_a_query_and_refuses_unknown_ones()
    {
        const string query = """
            histogram_quantile(0.95, sum by (le, baloyibank_stage) (rate(baloyibank_pipeline_latency_seconds_bucket{baloyibank_stage=~"gold|$stage"}[$__rate_interval])))
              / on (service_name) group_left sum(baloyibank_sink_lag offset 5m) > bool 1e3 unless sum without (reason) (increase(baloyibank_sink_lag_seconds[5m]))
            """;
        Assert.Equal(["baloyibank_pipeline_latency_seconds_bucket", "baloyibank_sink_lag", "baloyibank_sink_lag_seconds"], GrafanaDashboards.MetricNames(query).Order(StringComparer.Ordinal));
        Assert.Equal(["baloyibank_stage", "le", "service_name", "reason", "stage"], GrafanaDashboards.LabelNames(query, "p95 {{stage}}"));
        var names = GrafanaDashboards.ByPrometheusName(PublishedInstruments());
        Assert.True(names.ContainsKey("baloyibank_sink_lag"));
        Assert.False(names.ContainsKey("baloyibank_sink_lag_seconds"));           // a wrong unit
        Assert.False(names.ContainsKey("baloyibank_pipeline_latency_seconds"));   // a histogram is only its series
        Assert.False(names.ContainsKey("baloyibank_sink_loads"));                 // a counter without _total
    }

    [Fact]
    public void Every_dashboard_is_valid_json_with_a_unique_uid_and_only_the_image_s_datasources()
    {
        var files = Directory.GetFiles(Folder, "*.json");
        Assert.True(files.Length >= 2, $"expected the pipeline and trace dashboards in {Folder}");
        var uids = new HashSet<string>(StringComparer.Ordinal);
        var datasourceTypes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var uid = json.RootElement.GetProperty("uid").GetString();
            Assert.False(string.IsNullOrEmpty(uid), $"{file} has no uid (provisioned dashboards need a stable one for links)");
            Assert.True(uids.Add(uid!), $"{file}: uid {uid} is used twice");
            foreach (var datasource in Descendants(json.RootElement).Where(e => e.Name == "datasource").Select(e => e.Value))
            {
                var id = datasource.GetProperty("uid").GetString()!;
                Assert.True(ImageDatasources.Contains(id), $"{Path.GetFileName(file)} uses datasource uid '{id}', which grafana/otel-lgtm does not provision");
                datasourceTypes.Add(datasource.GetProperty("type").GetString()!);
            }
        }

        Assert.Contains("prometheus", datasourceTypes);
        Assert.Contains("tempo", datasourceTypes);
    }

    [Fact]
    public void The_otel_lgtm_service_provisions_the_dashboards_read_only()
    {
        using var reader = new StreamReader(Repo.PathOf("docker-compose.yml"));
        var yaml = new YamlStream();
        yaml.Load(reader);
        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("services")];
        var lgtm = (YamlMappingNode)services.Children[new YamlScalarNode("otel-lgtm")];
        var image = ((YamlScalarNode)lgtm.Children[new YamlScalarNode("image")]).Value!;
        Assert.Matches(@"^grafana/otel-lgtm:\d+\.\d+\.\d+$", image);
        var mounts = ((YamlSequenceNode)lgtm.Children[new YamlScalarNode("volumes")]).Children.Cast<YamlScalarNode>()
            .Select(n => n.Value!.Split(':')).ToDictionary(p => p[0], p => (Target: p[1], Mode: p.ElementAtOrDefault(2)), StringComparer.Ordinal);

        // The image reads providers from Grafana's provisioning folder (its Dockerfile copies its own there).
        var provider = mounts["./deploy/grafana/dashboards.yaml"];
        Assert.Matches(@"^/otel-lgtm/grafana/conf/provisioning/dashboards/[^/]+\.yaml$", provider.Target);
        var folder = mounts["./deploy/grafana/dashboards"];
        Assert.Equal("ro", provider.Mode);
        Assert.Equal("ro", folder.Mode);

        // The provider names the folder where the JSON is mounted.
        using var providerReader = new StreamReader(Repo.PathOf("deploy", "grafana", "dashboards.yaml"));
        var providerYaml = new YamlStream();
        providerYaml.Load(providerReader);
        var providers = (YamlSequenceNode)((YamlMappingNode)providerYaml.Documents[0].RootNode).Children[new YamlScalarNode("providers")];
        var paths = providers.Children.Cast<YamlMappingNode>()
            .Select(p => ((YamlScalarNode)((YamlMappingNode)p.Children[new YamlScalarNode("options")]).Children[new YamlScalarNode("path")]).Value).ToList();
        Assert.Equal([folder.Target], paths);
    }

    /// <summary>What a service publishes: collected by a MeterListener from the services' own telemetry classes.</summary>
    internal static IReadOnlyList<PublishedInstrument> PublishedInstruments()
    {
        List<PublishedInstrument> published = [];
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name.StartsWith("BaloyiBank.", StringComparison.Ordinal))
                {
                    lock (published)
                    {
                        published.Add(PublishedInstrument.Of(instrument));
                    }
                }
            },
        };
        using var factory = new PlainMeterFactory();
        using var generator = new GeneratorTelemetry(factory);
        using var cleansing = new CleansingTelemetry(factory, new CleansingProgress());
        using var aggregator = new AggregatorMetrics(factory);
        using var sink = new SinkMetrics(factory);
        _ = WarehouseTelemetry.Meter; // static: created on first use, as the sink's warehouse does
        // Start reports every instrument that exists already, then every one created while it listens.
        listener.Start();
        lock (published)
        {
            return [.. published.Distinct()];
        }
    }

    private static IEnumerable<(string Name, JsonElement Value)> Descendants(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                yield return (property.Name, property.Value);
                foreach (var d in Descendants(property.Value))
                {
                    yield return d;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in element.EnumerateArray().SelectMany(Descendants))
            {
                yield return d;
            }
        }
    }

    private sealed class PlainMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
