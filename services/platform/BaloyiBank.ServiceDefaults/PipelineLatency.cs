using System.Diagnostics.Metrics;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// The end-to-end latency histogram every stage records under its own meter with the same name, unit and buckets:
/// from an event's enqueue in the log to the moment it became visible at <see cref="StageTag"/> = <c>silver</c>
/// (cleansing's commit), <c>gold</c> (the aggregator round's commit) or <c>warehouse</c> (the sink load's commit).
/// One measurement per event (counted from commitInfo's enqueue-time buckets, exact to the bucket width).
/// </summary>
public static class PipelineLatency
{
    public const string Name = "baloyibank.pipeline.latency";
    public const string Unit = "s";
    public const string StageTag = "baloyibank.stage";
    public const string Silver = "silver";
    public const string Gold = "gold";
    public const string Warehouse = "warehouse";

    /// <summary>Seconds: sub-second flushes up to an hour behind (the OpenTelemetry default buckets are made for milliseconds).</summary>
    public static IReadOnlyList<double> Buckets { get; } = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    public static Histogram<double> Create(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        return meter.CreateHistogram(Name, Unit,
            "From an event's enqueue in the event log to its commit at a stage (silver, gold, warehouse), per event.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
    }

    /// <summary>Records <paramref name="latencies"/> (seconds, with how many events had each) for <paramref name="stage"/>.</summary>
    public static void Record(Histogram<double> histogram, string stage, IEnumerable<(double Seconds, long Count)> latencies)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        ArgumentNullException.ThrowIfNull(latencies);
        if (!histogram.Enabled)
        {
            return;
        }

        var tag = new KeyValuePair<string, object?>(StageTag, stage);
        foreach (var (seconds, count) in latencies)
        {
            // A histogram has no weights: one measurement per event (a few hundred thousand adds per flush at most).
            for (long i = 0; i < count; i++)
            {
                histogram.Record(seconds, tag);
            }
        }
    }
}
