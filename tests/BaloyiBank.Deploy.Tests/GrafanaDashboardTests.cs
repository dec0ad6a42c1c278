using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using BaloyiBank.Aggregator;
using BaloyiBank.Cleansing;
using BaloyiBank.Generator;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using YamlDotNet.RepresentationModel;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// deploy/grafana: every metric a dashboard's PromQL names is one the services really publish, under the name Prometheus
/// gives it when it receives OTLP (grafana/otel-lgtm: Prometheus' OTLP receiver, names with type and unit suffixes), and the
/// dashboards are provisioned by the otel-lgtm service of docker-compose.yml. No Grafana runs here.
/// </summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly string Folder = Repo.PathOf("deploy", "grafana", "dashboards");

    /// <summary>The datasource uids grafana/otel-lgtm provisions (its grafana-datasources.yaml).</summary>
    private static readonly HashSet<string> ImageDatasources = new(["prometheus", "tempo", "loki"], StringComparer.Ordinal);

    [Fact]
    public void Every_metric_a_dashboard_queries_is_published_by_a_service_with_that_unit()
    {
        var published = PublishedInstruments();
        var names = PrometheusNames(published);
        var problems = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (dashboard, panel, expression, unit) in Queries())
        {
            foreach (var metric in MetricNames(expression))
            {
                used.Add(metric);
                if (!names.TryGetValue(metric, out var instrument))
                {
                    problems.Add($"{dashboard} / '{panel}': {metric} is not a metric any service publishes (query: {expression})");
                }
                else if (expression.StartsWith("histogram_quantile(", StringComparison.Ordinal) && unit != GrafanaUnit(instrument.Unit))
                {
                    problems.Add($"{dashboard} / '{panel}': shows quantiles of {instrument.Name} ({instrument.Unit}) in Grafana unit '{unit}', expected '{GrafanaUnit(instrument.Unit)}'");
                }
            }
        }

        Assert.Empty(problems);
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
    [InlineData("baloyibank.sink.load.duration", "s", InstrumentKind.Histogram, "baloyibank_sink_load_duration_seconds")]
    [InlineData("baloyibank.cleansing.batch.bytes", "By", InstrumentKind.Histogram, "baloyibank_cleansing_batch_bytes")]
    [InlineData("baloyibank.cleansing.events.quarantined", "{event}", InstrumentKind.Counter, "baloyibank_cleansing_events_quarantined_total")]
    [InlineData("baloyibank.cleansing.lag", "{event}", InstrumentKind.Gauge, "baloyibank_cleansing_lag")]
    [InlineData("baloyibank.aggregator.rows_folded", "{row}", InstrumentKind.Counter, "baloyibank_aggregator_rows_folded_total")]
    [InlineData("process.cpu.utilization", "1", InstrumentKind.Gauge, "process_cpu_utilization_ratio")]
    [InlineData("http.requests.total", "{request}", InstrumentKind.Counter, "http_requests_total")]
    [InlineData("io.rate", "By/s", InstrumentKind.Gauge, "io_rate_bytes_per_second")]
    public void Names_follow_the_OTLP_to_Prometheus_translation(string name, string unit, InstrumentKind kind, string expected) =>
        Assert.Equal(expected, PrometheusName(name, unit, kind));

    [Fact]
    public void The_checker_finds_the_metrics_in_a_query_and_refuses_unknown_ones()
    {
        const string query = """
            histogram_quantile(0.95, sum by (le, baloyibank_stage) (rate(baloyibank_pipeline_latency_seconds_bucket{baloyibank_stage=~"gold|$stage"}[$__rate_interval])))
              / on (service_name) group_left sum(baloyibank_sink_lag offset 5m) > bool 1e3 unless sum without (reason) (increase(baloyibank_sink_lag_seconds[5m]))
            """;
        Assert.Equal(["baloyibank_pipeline_latency_seconds_bucket", "baloyibank_sink_lag", "baloyibank_sink_lag_seconds"], MetricNames(query).Order(StringComparer.Ordinal));
        var names = PrometheusNames(PublishedInstruments());
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
                        published.Add(new PublishedInstrument(instrument.Meter.Name, instrument.Name, instrument.Unit ?? "", KindOf(instrument)));
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

    /// <summary>Prometheus series name → the instrument behind it (a histogram is three series).</summary>
    private static Dictionary<string, PublishedInstrument> PrometheusNames(IEnumerable<PublishedInstrument> instruments)
    {
        var names = new Dictionary<string, PublishedInstrument>(StringComparer.Ordinal);
        foreach (var instrument in instruments)
        {
            var name = PrometheusName(instrument.Name, instrument.Unit, instrument.Kind);
            IEnumerable<string> series = instrument.Kind == InstrumentKind.Histogram ? [name + "_bucket", name + "_sum", name + "_count"] : [name];
            foreach (var s in series)
            {
                if (names.TryGetValue(s, out var other) && other.Unit != instrument.Unit)
                {
                    throw new InvalidOperationException($"{s} is published by {other.Meter} in '{other.Unit}' and by {instrument.Meter} in '{instrument.Unit}'");
                }

                names[s] = instrument;
            }
        }

        return names;
    }

    /// <summary>
    /// The OpenTelemetry → Prometheus name translation with suffixes (Prometheus' OTLP receiver, UnderscoreEscapingWithSuffixes):
    /// characters outside [a-zA-Z0-9:] split the name into words joined by '_'; the unit's word is appended unless already
    /// one of them ({annotations} are dropped, "a/b" becomes "a_per_b"); counters end in "total"; unit-1 gauges in "ratio".
    /// </summary>
    internal static string PrometheusName(string name, string unit, InstrumentKind kind)
    {
        var words = NonNameCharacters().Split(name).Where(w => w.Length > 0).ToList();
        var cleaned = Annotation().Replace(unit, "");
        var parts = cleaned.Split('/', 2);
        var main = UnitWord(parts[0].Trim());
        var per = parts.Length == 2 ? PerUnitWord(parts[1].Trim()) : "";
        if (main.Length > 0 && !words.Contains(main, StringComparer.Ordinal))
        {
            words.Add(main);
        }

        if (per.Length > 0 && !words.Contains(per, StringComparer.Ordinal))
        {
            words.AddRange(["per", per]);
        }

        if (kind == InstrumentKind.Counter)
        {
            words.RemoveAll(w => w == "total");
            words.Add("total");
        }

        if (unit == "1" && kind == InstrumentKind.Gauge)
        {
            words.RemoveAll(w => w == "ratio");
            words.Add("ratio");
        }

        return string.Join('_', words);
    }

    private static string UnitWord(string unit) => unit switch
    {
        "" or "1" => "",
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "%" => "percent",
        _ => NonNameCharacters().Replace(unit, "_"),
    };

    private static string PerUnitWord(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        _ => NonNameCharacters().Replace(unit, "_"),
    };

    /// <summary>The Grafana panel unit that shows an OpenTelemetry unit's values.</summary>
    private static string GrafanaUnit(string unit) => unit switch
    {
        "s" => "s",
        "ms" => "ms",
        "By" => "bytes",
        _ => "short",
    };

    /// <summary>
    /// The metric names in a PromQL expression: what is left once strings, label matchers, ranges, grouping label lists,
    /// Grafana variables, numbers and durations are removed, that is not a function or a keyword.
    /// </summary>
    internal static IReadOnlyList<string> MetricNames(string expression)
    {
        var text = PromStrings().Replace(expression, "\"\"");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return [.. Identifier().Matches(text).Select(m => m.Value).Where(w => !Keywords.Contains(w)).Distinct()];
    }

    private static readonly HashSet<string> Keywords = new(
        ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN"], StringComparer.Ordinal);

    /// <summary>(dashboard file, panel title, PromQL, the panel's unit) for every Prometheus query of every dashboard.</summary>
    private static IEnumerable<(string Dashboard, string Panel, string Expression, string Unit)> Queries()
    {
        var count = 0;
        foreach (var file in Directory.GetFiles(Folder, "*.json"))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in Panels(json.RootElement))
            {
                var unit = panel.TryGetProperty("fieldConfig", out var config) && config.GetProperty("defaults").TryGetProperty("unit", out var u) ? u.GetString()! : "";
                if (!panel.TryGetProperty("targets", out var targets))
                {
                    continue;
                }

                foreach (var target in targets.EnumerateArray().Where(t => t.TryGetProperty("expr", out _)))
                {
                    count++;
                    yield return (Path.GetFileName(file), panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!, unit);
                }
            }
        }

        Assert.True(count > 30, $"only {count} PromQL queries found in {Folder}");
    }

    private static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return panel;
            if (panel.TryGetProperty("panels", out var nested))
            {
                foreach (var inner in nested.EnumerateArray())
                {
                    yield return inner;
                }
            }
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

    private static InstrumentKind KindOf(System.Diagnostics.Metrics.Instrument instrument)
    {
        var type = instrument.GetType().GetGenericTypeDefinition();
        return type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? InstrumentKind.Counter
            : type == typeof(Histogram<>) ? InstrumentKind.Histogram
            : InstrumentKind.Gauge; // gauges and up-down counters (non-monotonic sums) keep their name
    }

    [GeneratedRegex("[^a-zA-Z0-9:]+")]
    private static partial Regex NonNameCharacters();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Annotation();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex PromStrings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    // A name not preceded by a word character, '$' or '.', not followed by more name characters or by '(' (a function).
    [GeneratedRegex(@"(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*(?![a-zA-Z0-9_:])(?!\s*\()")]
    private static partial Regex Identifier();

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

public enum InstrumentKind
{
    Counter,
    Histogram,
    Gauge,
}

/// <summary>One published instrument: its meter, OpenTelemetry name, unit and how Prometheus stores it.</summary>
internal sealed record PublishedInstrument(string Meter, string Name, string Unit, InstrumentKind Kind);
