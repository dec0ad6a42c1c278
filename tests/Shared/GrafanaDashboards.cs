using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BaloyiBank.Tests.Shared;

/// <summary>How Prometheus stores an OpenTelemetry instrument: a counter (<c>_total</c>), a histogram (three series) or a gauge.</summary>
internal enum InstrumentKind
{
    Counter,
    Histogram,
    Gauge,
}

/// <summary>One published instrument: its meter, OpenTelemetry name, unit and how Prometheus stores it.</summary>
internal sealed record PublishedInstrument(string Meter, string Name, string Unit, InstrumentKind Kind)
{
    public static PublishedInstrument Of(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType().GetGenericTypeDefinition();
        var kind = type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? InstrumentKind.Counter
            : type == typeof(Histogram<>) ? InstrumentKind.Histogram
            : InstrumentKind.Gauge; // gauges and up-down counters (non-monotonic sums) keep their name
        return new PublishedInstrument(instrument.Meter.Name, instrument.Name, instrument.Unit ?? "", kind);
    }

    /// <summary>The Prometheus series this instrument becomes.</summary>
    public IEnumerable<string> Series()
    {
        var name = GrafanaDashboards.PrometheusName(Name, Unit, Kind);
        return Kind == InstrumentKind.Histogram ? [name + "_bucket", name + "_sum", name + "_count"] : [name];
    }
}

/// <summary>One Prometheus query of a dashboard panel, with the panel's unit and the query's legend.</summary>
internal sealed record DashboardQuery(string Dashboard, string Panel, string Expression, string Legend, string Unit);

/// <summary>
/// The dashboards of deploy/grafana/dashboards read as a checker needs them: every PromQL query, the metric and label names
/// it uses, and the OpenTelemetry → Prometheus naming (Prometheus' OTLP receiver, UnderscoreEscapingWithSuffixes, as in
/// grafana/otel-lgtm). Linked into the test projects that check the dashboards.
/// </summary>
internal static partial class GrafanaDashboards
{
    /// <summary>Labels Prometheus adds to every series (histogram buckets, promoted resource attributes), never instrument tags.</summary>
    public static IReadOnlySet<string> SeriesLabels { get; } = new HashSet<string>(
        ["le", "job", "instance", "service_name", "service_namespace", "service_instance_id", "service_version"], StringComparer.Ordinal);

    private static readonly HashSet<string> Keywords = new(
        ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN"], StringComparer.Ordinal);

    /// <summary>Every Prometheus query (a target with <c>expr</c>) of every dashboard JSON in <paramref name="folder"/>.</summary>
    public static IReadOnlyList<DashboardQuery> Queries(string folder)
    {
        List<DashboardQuery> queries = [];
        foreach (var file in Directory.GetFiles(folder, "*.json"))
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
                    var legend = target.TryGetProperty("legendFormat", out var l) ? l.GetString() ?? "" : "";
                    queries.Add(new DashboardQuery(Path.GetFileName(file), panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!, legend, unit));
                }
            }
        }

        return queries;
    }

    /// <summary>Every Tempo query (a target with <c>query</c> on the <c>tempo</c> datasource) of every dashboard JSON in <paramref name="folder"/>.</summary>
    public static IReadOnlyList<DashboardQuery> TraceQueries(string folder)
    {
        List<DashboardQuery> queries = [];
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in Panels(json.RootElement).Where(p => p.TryGetProperty("targets", out _)))
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    if (target.TryGetProperty("datasource", out var source) && source.GetProperty("type").GetString() == "tempo" && target.TryGetProperty("query", out var query))
                    {
                        queries.Add(new DashboardQuery(Path.GetFileName(file), panel.GetProperty("title").GetString()!, query.GetString()!, "", ""));
                    }
                }
            }
        }

        return queries;
    }

    /// <summary>The span-name conditions of a TraceQL query: (<c>=</c> or <c>=~</c>, the name or regular expression).</summary>
    public static IReadOnlyList<(string Operator, string Name)> SpanNames(string traceQl) =>
        [.. SpanNameCondition().Matches(traceQl ?? "").Select(m => (m.Groups["op"].Value, m.Groups["name"].Value))];

    /// <summary>The span attributes (<c>span.x.y</c>) a TraceQL query filters by, without the <c>span.</c> scope.</summary>
    public static IReadOnlyList<string> SpanAttributes(string traceQl) =>
        [.. SpanAttribute().Matches(traceQl ?? "").Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal)];

    /// <summary>Prometheus series name → the instrument behind it; throws when two instruments would share a series with different units.</summary>
    public static Dictionary<string, PublishedInstrument> ByPrometheusName(IEnumerable<PublishedInstrument> instruments)
    {
        var names = new Dictionary<string, PublishedInstrument>(StringComparer.Ordinal);
        foreach (var instrument in instruments)
        {
            foreach (var series in instrument.Series())
            {
                if (names.TryGetValue(series, out var other) && (other.Unit, other.Kind) != (instrument.Unit, instrument.Kind))
                {
                    throw new InvalidOperationException($"{series} is published by {other.Meter} as {other.Kind} in '{other.Unit}' and by {instrument.Meter} as {instrument.Kind} in '{instrument.Unit}'");
                }

                names[series] = instrument;
            }
        }

        return names;
    }

    /// <summary>
    /// The OpenTelemetry → Prometheus name with suffixes: characters outside [a-zA-Z0-9:] split the name into words joined by
    /// '_'; the unit's word is appended unless already one of them ({annotations} are dropped, "a/b" becomes "a_per_b");
    /// counters end in "total"; unit-1 gauges in "ratio".
    /// </summary>
    public static string PrometheusName(string name, string unit, InstrumentKind kind)
    {
        var words = NonNameCharacters().Split(name).Where(w => w.Length > 0).ToList();
        var parts = Annotation().Replace(unit, "").Split('/', 2);
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

    /// <summary>An attribute name as a Prometheus label (<c>baloyibank.stage</c> → <c>baloyibank_stage</c>).</summary>
    public static string LabelName(string attribute) => NonNameCharacters().Replace(attribute, "_");

    /// <summary>The Grafana panel unit that shows an OpenTelemetry unit's values.</summary>
    public static string GrafanaUnit(string unit) => unit switch
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
    public static IReadOnlyList<string> MetricNames(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var text = PromStrings().Replace(expression, "\"\"");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        return [.. Identifier().Matches(text).Select(m => m.Value).Where(w => !Keywords.Contains(w)).Distinct()];
    }

    /// <summary>The label names a query relies on: in matchers, in by/without/on/ignoring lists, and in its legend's {{label}}.</summary>
    public static IReadOnlyList<string> LabelNames(string expression, string legend)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var text = PromStrings().Replace(expression, "\"\"");
        var names = new List<string>();
        foreach (Match braces in Braces().Matches(text))
        {
            names.AddRange(MatcherLabel().Matches(braces.Value).Select(m => m.Groups["label"].Value));
        }

        foreach (Match grouping in Grouping().Matches(text))
        {
            names.AddRange(LabelList().Matches(grouping.Value[grouping.Value.IndexOf('(', StringComparison.Ordinal)..]).Select(m => m.Value));
        }

        names.AddRange(LegendLabel().Matches(legend ?? "").Select(m => m.Groups["label"].Value));
        return [.. names.Distinct(StringComparer.Ordinal)];
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

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")]
    private static partial Regex MatcherLabel();

    [GeneratedRegex(@"[a-zA-Z_][a-zA-Z0-9_]*")]
    private static partial Regex LabelList();

    [GeneratedRegex(@"(?<![\w.])name\s*(?<op>=~|=)\s*""(?<name>[^""]*)""")]
    private static partial Regex SpanNameCondition();

    [GeneratedRegex(@"\bspan\.(?<name>[a-zA-Z_][a-zA-Z0-9_.]*[a-zA-Z0-9_])")]
    private static partial Regex SpanAttribute();

    [GeneratedRegex(@"\{\{\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")]
    private static partial Regex LegendLabel();
}
