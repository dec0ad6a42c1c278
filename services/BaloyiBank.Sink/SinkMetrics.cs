using System.Diagnostics.Metrics;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink;

/// <summary>The sink's instruments (meter <c>BaloyiBank.Sink</c>); the warehouse engine has its own (<c>BaloyiBank.Warehouse</c>).</summary>
public sealed class SinkMetrics : IDisposable
{
    public const string MeterName = "BaloyiBank.Sink";

    private readonly Meter _meter;
    private readonly Counter<long> _loads;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _duration;
    private long _lag;
    private long _leaseHeld;

    public SinkMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _loads = _meter.CreateCounter<long>("baloyibank.sink.loads", "{load}", "Sink loads, by outcome (committed, transient, permanent, fenced).");
        _rows = _meter.CreateCounter<long>("baloyibank.sink.rows", "{row}", "Warehouse rows changed by the sink, by action (insert, update, delete).");
        _duration = _meter.CreateHistogram<double>("baloyibank.sink.load.duration", "s", "From reading gold's changes to the warehouse commit.");
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

    public void Failed(string outcome) => _loads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A load the warehouse refused because another loader moved the watermark first (nothing changed).</summary>
    public void Fenced() => _loads.Add(1, new KeyValuePair<string, object?>("outcome", "fenced"));

    public void Lag(long rounds) => Interlocked.Exchange(ref _lag, rounds);

    public void LeaseHeld(bool held) => Interlocked.Exchange(ref _leaseHeld, held ? 1 : 0);

    public void Dispose() => _meter.Dispose();
}
