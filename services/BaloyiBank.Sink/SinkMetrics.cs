using System.Diagnostics;
using System.Diagnostics.Metrics;
using BaloyiBank.Delta;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink;

/// <summary>
/// The sink's telemetry: ActivitySource and Meter <c>BaloyiBank.Sink</c> (the warehouse engine has its own,
/// <c>BaloyiBank.Warehouse</c>, whose MERGE spans are children of the <c>sink load</c> span).
/// </summary>
public sealed class SinkMetrics : IDisposable
{
    public const string MeterName = "BaloyiBank.Sink";

    /// <summary>The sink's spans (same name as its meter).</summary>
    public static ActivitySource Source { get; } = new(MeterName);

    private readonly Meter _meter;
    private readonly Counter<long> _loads;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _latency;
    private long _lag;
    private long _leaseHeld;

    public SinkMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _loads = _meter.CreateCounter<long>("baloyibank.sink.loads", "{load}", "Sink loads, by outcome (committed, transient, permanent, fenced).");
        _rows = _meter.CreateCounter<long>("baloyibank.sink.rows", "{row}", "Warehouse rows changed by the sink, by action (insert, update, delete).");
        _duration = _meter.CreateHistogram<double>("baloyibank.sink.load.duration", "s", "From reading gold's changes to the warehouse commit.");
        _latency = PipelineLatency.Create(_meter);
        _meter.CreateObservableGauge("baloyibank.sink.lag", () => Interlocked.Read(ref _lag), "{round}", "Gold rounds committed but not yet in the warehouse.");
        _meter.CreateObservableGauge("baloyibank.sink.lease_held", () => Interlocked.Read(ref _leaseHeld), "{lease}", "1 while this instance holds the warehouse lease, 0 as a standby.");
    }

    public void Loaded(WarehouseLoadResult result, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(result);
        _loads.Add(1, new KeyValuePair<string, object?>("outcome", "committed"));
        _rows.Add(result.Inserted, new KeyValuePair<string, object?>("action", "insert"));
        _rows.Add(result.Updated, new KeyValuePair<string, object?>("action", "update"));
        _rows.Add(result.Deleted, new KeyValuePair<string, object?>("action", "delete"));
        _duration.Record(duration.TotalSeconds);
    }

    /// <summary>Whether anyone listens for what gold's commit lineage is read for (the load's links or the latency).</summary>
    public bool LineageWanted => _latency.Enabled || Source.HasListeners();

    /// <summary>The warehouse latency of the events whose gold rounds a committed load made visible at <paramref name="visibleAt"/>.</summary>
    public void Visible(EnqueueTimes? enqueued, DateTimeOffset visibleAt)
    {
        if (enqueued is not null)
        {
            PipelineLatency.Record(_latency, PipelineLatency.Warehouse, enqueued.LatenciesAt(visibleAt));
        }
    }

    public void Failed(string outcome) => _loads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A load the warehouse refused because another loader moved the watermark first (nothing changed).</summary>
    public void Fenced() => _loads.Add(1, new KeyValuePair<string, object?>("outcome", "fenced"));

    public void Lag(long rounds) => Interlocked.Exchange(ref _lag, rounds);

    public void LeaseHeld(bool held) => Interlocked.Exchange(ref _leaseHeld, held ? 1 : 0);

    public void Dispose() => _meter.Dispose();
}
