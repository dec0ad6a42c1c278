using System.Diagnostics;
using System.Diagnostics.Metrics;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Cleansing;

/// <summary>
/// The cleansing service's spans and metrics. A <c>process</c> span per committed micro-batch (only when
/// someone listens) links to the generator's <c>create</c> spans found in the batch's headers, so a trace
/// viewer follows an event from its creation to the silver commit that holds it. Metrics are named
/// <c>baloyibank.cleansing.*</c>; partitions and reasons are tags, never high-cardinality values.
/// </summary>
public sealed class CleansingTelemetry : IDisposable
{
    public const string Name = Telemetry.SourcePrefix + "Cleansing";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public CleansingTelemetry(IMeterFactory meterFactory, CleansingProgress progress)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(progress);
        _meter = meterFactory.Create(Name);
        Consumed = _meter.CreateCounter<long>("baloyibank.cleansing.events.consumed", "{event}", "Events whose micro-batch was committed, by partition.");
        Valid = _meter.CreateCounter<long>("baloyibank.cleansing.events.valid", "{event}", "Events written to silver.");
        Quarantined = _meter.CreateCounter<long>("baloyibank.cleansing.events.quarantined", "{event}", "Events written to quarantine, by reason.");
        Duplicates = _meter.CreateCounter<long>("baloyibank.cleansing.events.duplicates", "{event}", "Transactions dropped as duplicates within the dedup horizon.");
        BatchRows = _meter.CreateHistogram<long>("baloyibank.cleansing.batch.rows", "{event}", "Events per committed micro-batch.");
        BatchBytes = _meter.CreateHistogram<long>("baloyibank.cleansing.batch.bytes", "By", "Payload bytes per committed micro-batch.");
        FlushDuration = _meter.CreateHistogram<double>("baloyibank.cleansing.flush.duration", "s",
            "Time to write and commit one micro-batch, by phase (stage, files, commit) and in total.");
        CommitLatency = _meter.CreateHistogram<double>("baloyibank.cleansing.commit.latency", "s",
            "Per micro-batch, from the oldest event's enqueue time to the commit that made it visible in silver.");
        PipelineLatency = ServiceDefaults.PipelineLatency.Create(_meter);
        OwnershipChanges = _meter.CreateCounter<long>("baloyibank.cleansing.ownership.changes", "{change}",
            "Scale-out: partitions this process claimed, stole, lost, released or was fenced off, by partition and change.");
        _meter.CreateObservableGauge("baloyibank.cleansing.lag", () => progress.Partitions
                .Where(p => p.Lag is not null)
                .Select(p => new Measurement<long>(p.Lag!.Value, new KeyValuePair<string, object?>("partition", p.Partition))),
            "{event}", "Events in the log not yet committed to silver, per partition.");
    }

    internal Counter<long> Consumed { get; }
    internal Counter<long> Valid { get; }
    internal Counter<long> Quarantined { get; }
    internal Counter<long> Duplicates { get; }
    internal Histogram<long> BatchRows { get; }
    internal Histogram<long> BatchBytes { get; }
    internal Histogram<double> FlushDuration { get; }
    internal Histogram<double> CommitLatency { get; }
    internal Counter<long> OwnershipChanges { get; }

    /// <summary><c>baloyibank.pipeline.latency</c> with stage <c>silver</c>: per event, enqueue to silver commit.</summary>
    internal Histogram<double> PipelineLatency { get; }

    public void Dispose() => _meter.Dispose();
}
